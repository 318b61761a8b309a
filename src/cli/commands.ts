import type { Container } from '../container.ts';
import { isValidFlagName } from '../platform/flags/flag-provider.ts';
import { findTenantBySlug } from '../modules/tenants/tenants.repository.ts';
import { CliUsageError, type ParsedArgs } from './cli-args.ts';

export interface CommandResult {
  output: unknown;
  human: string;
  exitCode: number;
}

type Command = (container: Container, args: ParsedArgs) => Promise<CommandResult>;

const ok = (output: unknown, human: string): CommandResult => ({ output, human, exitCode: 0 });

function required(args: ParsedArgs, name: string): string {
  const value = args.options[name];
  if (!value) throw new CliUsageError(`--${name} is required`);
  return value;
}

async function tenantIdOf(container: Container, slug: string): Promise<string> {
  const tenant = await findTenantBySlug(container.pool, slug);
  if (!tenant) throw new CliUsageError(`no tenant named "${slug}"`);
  return tenant.id;
}

// The filters dlq list and dlq replay --all share.
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
  'keys create': async (c, args) => {
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
      `Created a ${created.role} key for tenant ${created.tenant} (id ${created.id}).\nKey (shown once): ${created.key}`,
    );
  },

  'flags set': async (c, args) => {
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

  'flags list': async (c) => {
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

  'audit verify': async (c, args) => {
    const result = await c.audit.verify(await tenantIdOf(c, required(args, 'tenant')));
    const human = result.valid
      ? `Audit chain valid: ${result.checked} events checked.`
      : `Audit chain INVALID at seq ${result.first_invalid_seq} (${result.checked} events checked).`;
    return { output: result, human, exitCode: result.valid ? 0 : 1 };
  },

  'dlq list': async (c, args) => {
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
  'dlq replay': async (c, args) => {
    const jobId = args.positionals[2];
    if (args.switches.has('all')) {
      if (jobId) throw new CliUsageError('dlq replay takes a job id or --all, not both');
      const result = await c.dlq.replayAll(await dlqFilter(c, args), 'cli');
      return ok(
        result,
        `Replayed ${result.replayed} of ${result.matched} dead letters through the outbox${result.skipped ? ` (${result.skipped} closed without a replay: their action was no longer failed)` : ''}.`,
      );
    }
    if (!jobId) throw new CliUsageError('dlq replay needs a job id (see dlq list) or --all');
    const result = await c.dlq.replay(jobId, 'cli');
    return ok(result, `${result.job_id}: ${result.detail}`);
  },
  'dlq discard': async (c, args) => {
    const jobId = args.positionals[2];
    if (!jobId) throw new CliUsageError('dlq discard needs a job id (see dlq list)');
    const result = await c.dlq.discard(jobId, 'cli', { reason: args.options.reason });
    return ok(result, `${result.job_id}: ${result.detail}`);
  },
};

export async function runCommand(container: Container, args: ParsedArgs): Promise<CommandResult> {
  const name = args.positionals.slice(0, 2).join(' ');
  const command = commands[name];
  if (!command) throw new CliUsageError(`unknown command "${name}"`);
  return command(container, args);
}
