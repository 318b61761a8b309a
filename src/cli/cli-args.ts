// A small argument parser: positional words, `--name value` options and `--flag` switches.
// Known switches are listed so `--json` never swallows the next positional word.
export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string>;
  switches: Set<string>;
}

export function parseArgs(
  argv: readonly string[],
  knownSwitches: readonly string[] = ['json', 'help'],
): ParsedArgs {
  const positionals: string[] = [];
  const options: Record<string, string> = {};
  const switches = new Set<string>();
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (!arg.startsWith('--')) {
      positionals.push(arg);
      continue;
    }
    const [, name, inline] = /^--([^=]*)(?:=([\s\S]*))?$/.exec(arg) as unknown as [string, string, string?];
    if (inline !== undefined) options[name] = inline;
    else if (knownSwitches.includes(name)) switches.add(name);
    else {
      const value = argv[i + 1];
      if (value === undefined || value.startsWith('--')) throw new CliUsageError(`--${name} needs a value`);
      options[name] = value;
      i++;
    }
  }
  return { positionals, options, switches };
}

export class CliUsageError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CliUsageError';
  }
}
