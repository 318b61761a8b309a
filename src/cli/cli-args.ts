import { parseArgs as parseNodeArgs } from 'node:util';

// What a command line may carry besides positional words: options that take a value
// (`--tenant t1` or `--tenant=t1`) and switches that do not (`--json`).
export interface ArgSpec {
  options?: readonly string[];
  switches?: readonly string[];
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string>;
  switches: Set<string>;
}

// node:util's parser in strict mode: an option the spec does not name, a switch given a value
// and an option without one are usage errors, and declared switches never swallow the next word.
// A value that starts with a dash is written inline (`--reason=-x`), as Node asks.
export function parseArgs(argv: readonly string[], spec: ArgSpec): ParsedArgs {
  const declared: Record<string, { type: 'string' | 'boolean' }> = {};
  for (const name of spec.options ?? []) declared[name] = { type: 'string' };
  for (const name of spec.switches ?? []) declared[name] = { type: 'boolean' };
  let parsed: ReturnType<typeof parseNodeArgs>;
  try {
    parsed = parseNodeArgs({ args: [...argv], options: declared, strict: true, allowPositionals: true });
  } catch (err) {
    if ((err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS_')) {
      throw new CliUsageError((err as Error).message);
    }
    throw err;
  }
  const options: Record<string, string> = {};
  const switches = new Set<string>();
  for (const [name, value] of Object.entries(parsed.values)) {
    if (typeof value === 'string') options[name] = value;
    else if (value === true) switches.add(name);
  }
  return { positionals: parsed.positionals, options, switches };
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
