import type { Container } from '../container.ts';
import type { Dependency } from '../platform/dependencies.ts';
import { CliUsageError, type ParsedArgs } from './cli-args.ts';

export interface CommandResult {
  output: unknown;
  human: string;
  exitCode: number;
}

// One CLI command (`keys create`, `dlq list`, ...). What it accepts is declared here, so the
// parser rejects anything else before a connection is opened; `--json` and `--help` are
// accepted by every command.
export interface Command {
  /** What follows the command words in the usage text, e.g. `--tenant <slug> [--json]`. */
  usage: string;
  /** Options that take a value. */
  options?: readonly string[];
  /** Options that do not. */
  switches?: readonly string[];
  /**
   * What must answer before the command runs; by default everything the container talks to.
   * A command meant for an outage of one of them (a drill's status) names fewer.
   */
  needs?: readonly Dependency[];
  run(container: Container, args: ParsedArgs): Promise<CommandResult>;
}

export const ALL_DEPENDENCIES: readonly Dependency[] = ['postgres', 'redis', 'unleash'];

export const ok = (output: unknown, human: string): CommandResult => ({ output, human, exitCode: 0 });

export function required(args: ParsedArgs, name: string): string {
  const value = args.options[name];
  if (!value) throw new CliUsageError(`--${name} is required`);
  return value;
}
