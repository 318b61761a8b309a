import { describe, expect, it } from 'vitest';
import { CliUsageError } from './cli-args.ts';
import { parseCommandLine, USAGE } from './commands.ts';

describe('parseCommandLine', () => {
  it('when options come before the command words, then the command is still found', () => {
    const line = parseCommandLine(['--json', 'dlq', '--tenant', 'acme', 'list']);
    expect(line.command).toBeDefined();
    expect(line.args.positionals).toEqual(['dlq', 'list']);
    expect(line.args.options).toEqual({ tenant: 'acme' });
  });

  it('when no command words are given, then there is no command and no error', () => {
    expect(parseCommandLine(['--help']).command).toBeUndefined();
  });

  it('when the command is unknown, then it is a usage error naming it', () => {
    expect(() => parseCommandLine(['keys', 'destroy'])).toThrow('unknown command "keys destroy"');
  });

  it('when an option belongs to another command, then this command refuses it by name', () => {
    expect(() => parseCommandLine(['dlq', 'list', '--all'])).toThrow('dlq list does not take --all');
    expect(() => parseCommandLine(['flags', 'list', '--role', 'admin', '--reason', 'x'])).toThrow(
      'flags list does not take --role, --reason',
    );
  });

  it('when an option no command declares is given, then it is a usage error before anything connects', () => {
    expect(() => parseCommandLine(['dlq', 'list', '--tennant', 'acme'])).toThrow(CliUsageError);
  });

  it('when a job id is replayed with a filter, then the filter is refused rather than ignored', async () => {
    const line = parseCommandLine(['dlq', 'replay', 'outbox-1', '--tenant', 'acme']);
    await expect(line.command!.run(undefined as never, line.args)).rejects.toThrow('the filters need --all');
  });

  it('when usage is printed, then every command is listed with its options', () => {
    for (const name of ['keys create', 'flags set', 'flags list', 'audit verify', 'dlq list', 'dlq replay']) {
      expect(USAGE).toContain(`  ${name}`);
    }
    expect(USAGE).toContain('dlq discard <job-id> [--reason <text>]');
  });
});
