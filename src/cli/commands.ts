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

  'dlq list': async (c) => {
    const items = await c.dlq.list();
    const human = items.length
      ? items
          .map((d) => `${d.job_id}  action ${d.action_id}  attempts ${d.attempts}  ${d.failed_reason}`)
          .join('\n')
      : 'The dead-letter queue is empty.';
    return ok({ items }, human);
  },
  'dlq replay': async (c, args) => {
    const jobId = args.positionals[2];
    if (!jobId) throw new CliUsageError('dlq replay needs a job id (see dlq list)');
    const result = await c.dlq.replay(jobId, 'cli');
    return ok(result, `${result.job_id}: ${result.detail}`);
  },
};

export async function runCommand(container: Container, args: ParsedArgs): Promise<CommandResult> {
  const name = args.positionals.slice(0, 2).join(' ');
  const command = commands[name];
  if (!command) throw new CliUsageError(`unknown command "${name}"`);
  return command(container, args);
}
