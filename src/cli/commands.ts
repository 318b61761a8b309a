import type { Container } from '../container.ts';
import { isValidFlagName } from '../platform/flags/flag-provider.ts';
import { findTenantBySlug } from '../modules/tenants/tenants.repository.ts';
import { CliUsageError, parseArgs, type ParsedArgs } from './cli-args.ts';
import { alertsCommands } from './alerts-command.ts';
import { ok, required, type Command } from './command.ts';
import { drillCommands } from './drill-commands.ts';

async function tenantIdOf(container: Container, slug: string): Promise<string> {
  const tenant = await findTenantBySlug(container.pool, slug);
  if (!tenant) throw new CliUsageError(`no tenant named "${slug}"`);
  return tenant.id;
}

// The filters dlq list and dlq replay --all share.
const DLQ_FILTERS = ['tenant', 'tool', 'code'];
async function dlqFilter(
  container: Container,
  args: ParsedArgs,
): Promise<{ tenantId?: string; tool?: string; code?: string }> {
  const slug = args.options.tenant;
  return {
    tenantId: slug ? await tenantIdOf(container, slug) : undefined,
    tool: args.options.tool,
    code: args.options.code,
  };
}

const commands: Record<string, Command> = {
  'keys create': {
    usage: '--tenant <slug> --role agent|reviewer|admin [--tools a,b]',
    options: ['tenant', 'role', 'tools'],
    run: async (c, args) => {
      const tools = args.options.tools
        ?.split(',')
        .map((t) => t.trim())
        .filter(Boolean);
      const created = await c.auth.createKey({
        tenant: required(args, 'tenant'),
        role: required(args, 'role'),
        tools,
      });
      return ok(
        created,
        `Created ${created.role === 'agent' || created.role === 'admin' ? 'an' : 'a'} ${created.role} key for tenant ${created.tenant} (id ${created.id}).\nKey (shown once): ${created.key}`,
      );
    },
  },

  'flags set': {
    usage: '<name> on|off [--tenant <slug>]',
    options: ['tenant'],
    run: async (c, args) => {
      const [name, state] = args.positionals.slice(2);
      if (!name || !isValidFlagName(name)) throw new CliUsageError(`unknown flag name "${name ?? ''}"`);
      if (state !== 'on' && state !== 'off') throw new CliUsageError('the state must be on or off');
      const slug = args.options.tenant;
      const tenantId = slug ? await tenantIdOf(c, slug) : undefined;
      await c.flagsService.set(name, state === 'on', 'cli', tenantId);
      const output = { name, enabled: state === 'on', tenant: slug ?? null, provider: c.flags.kind };
      return ok(
        output,
        `${name} is now ${state}${slug ? ` for tenant ${slug}` : ''} (${c.flags.kind} provider).`,
      );
    },
  },

  'flags list': {
    usage: '',
    run: async (c) => {
      const flags = await c.flags.list();
      const human = flags.length
        ? flags
            .map(
              (f) =>
                `${f.name.padEnd(32)} ${f.enabled ? 'on ' : 'off'} ${f.tenant ?? (f.scope ? f.scope : 'global')}`,
            )
            .join('\n')
        : 'No flags set; defaults apply (auto-approve on, everything else off).';
      return ok({ provider: c.flags.kind, flags }, human);
    },
  },

  'audit verify': {
    usage: '--tenant <slug>',
    options: ['tenant'],
    run: async (c, args) => {
      const result = await c.audit.verify(await tenantIdOf(c, required(args, 'tenant')));
      const human = result.valid
        ? `Audit chain valid: ${result.checked} events checked.`
        : `Audit chain INVALID at seq ${result.first_invalid_seq} (${result.checked} events checked).`;
      return { output: result, human, exitCode: result.valid ? 0 : 1 };
    },
  },

  'dlq list': {
    usage:
      '[--tenant <slug>] [--tool <name>] [--code <error code>] [--state open|replayed|discarded]\n' +
      '           [--limit 1-1000] [--cursor <next_cursor>]',
    options: [...DLQ_FILTERS, 'state', 'limit', 'cursor'],
    run: async (c, args) => {
      const state = args.options.state;
      if (state !== undefined && !['open', 'replayed', 'discarded'].includes(state)) {
        throw new CliUsageError('--state must be open, replayed or discarded');
      }
      const limit = args.options.limit === undefined ? undefined : Number(args.options.limit);
      const page = await c.dlq.list(
        { ...(await dlqFilter(c, args)), state: state as 'open' | 'replayed' | 'discarded' | undefined },
        { limit, cursor: args.options.cursor },
      );
      const lines = page.items.map(
        (d) =>
          `${d.job_id}  ${d.state.padEnd(9)} ${d.tool.padEnd(16)} action ${d.action_id}  attempts ${d.attempts}  ${d.failed_reason}`,
      );
      const human = page.total
        ? [
            ...lines,
            `${page.items.length} shown of ${page.total}${page.next_cursor ? `; next page: --cursor ${page.next_cursor}` : ''}`,
          ].join('\n')
        : 'The dead-letter queue is empty.';
      return ok(page, human);
    },
  },

  'dlq replay': {
    usage: '<job-id> | dlq replay --all [--tenant <slug>] [--tool <name>] [--code <error code>]',
    options: DLQ_FILTERS,
    switches: ['all'],
    run: async (c, args) => {
      const jobId = args.positionals[2];
      if (args.switches.has('all')) {
        if (jobId) throw new CliUsageError('dlq replay takes a job id or --all, not both');
        const result = await c.dlq.replayAll(await dlqFilter(c, args), 'cli');
        return ok(
          result,
          `Replayed ${result.replayed} of ${result.matched} dead letters through the outbox${result.skipped ? ` (${result.skipped} closed without a replay: their action was no longer failed)` : ''}.`,
        );
      }
      if (Object.keys(args.options).length) throw new CliUsageError('the filters need --all');
      if (!jobId) throw new CliUsageError('dlq replay needs a job id (see dlq list) or --all');
      const result = await c.dlq.replay(jobId, 'cli');
      return ok(result, `${result.job_id}: ${result.detail}`);
    },
  },

  'dlq discard': {
    usage: '<job-id> [--reason <text>]',
    options: ['reason'],
    run: async (c, args) => {
      const jobId = args.positionals[2];
      if (!jobId) throw new CliUsageError('dlq discard needs a job id (see dlq list)');
      const result = await c.dlq.discard(jobId, 'cli', { reason: args.options.reason });
      return ok(result, `${result.job_id}: ${result.detail}`);
    },
  },
  ...alertsCommands,
  ...drillCommands,
};

const GLOBAL_SWITCHES = ['json', 'help'];

export const USAGE = [
  'usage: npm run --silent cli -- <command> [--json]',
  ...Object.entries(commands).map(
    ([name, command]) => `  ${name}${command.usage ? ` ${command.usage}` : ''}`,
  ),
].join('\n');

export interface CommandLine {
  args: ParsedArgs;
  /** Absent when no command words were given. */
  command?: Command;
}

// The command line is parsed against every option any command declares, so options may come
// before the command words (`flags --json list`); then the command is found and anything it
// does not declare is refused, all before a connection is opened.
export function parseCommandLine(argv: readonly string[]): CommandLine {
  const all = Object.values(commands);
  const args = parseArgs(argv, {
    options: all.flatMap((c) => c.options ?? []),
    switches: [...GLOBAL_SWITCHES, ...all.flatMap((c) => c.switches ?? [])],
  });
  if (args.positionals.length === 0) return { args };
  const name = args.positionals.slice(0, 2).join(' ');
  const command = commands[name];
  if (!command) throw new CliUsageError(`unknown command "${name}"`);
  const accepted = new Set([...GLOBAL_SWITCHES, ...(command.options ?? []), ...(command.switches ?? [])]);
  const refused = [...Object.keys(args.options), ...args.switches].filter((given) => !accepted.has(given));
  if (refused.length) throw new CliUsageError(`${name} does not take --${refused.join(', --')}`);
  return { args, command };
}
