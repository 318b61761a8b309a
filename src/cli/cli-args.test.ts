import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseArgs } from './cli-args.ts';

describe('parseArgs', () => {
  it('when words, options and switches are mixed, then each lands in its own bucket', () => {
    const parsed = parseArgs(['keys', 'create', '--tenant', 't1', '--json', '--role', 'agent']);
    expect(parsed.positionals).toEqual(['keys', 'create']);
    expect(parsed.options).toEqual({ tenant: 't1', role: 'agent' });
    expect([...parsed.switches]).toEqual(['json']);
  });

  it('when --json comes before a positional word, then it does not swallow the word', () => {
    const parsed = parseArgs(['flags', '--json', 'list']);
    expect(parsed.positionals).toEqual(['flags', 'list']);
    expect(parsed.switches.has('json')).toBe(true);
    expect(parsed.options).toEqual({});
  });

  it('when --help is given, then it is a switch', () => {
    expect(parseArgs(['--help']).switches.has('help')).toBe(true);
  });

  it('when an option uses the --name=value form, then the value is taken inline', () => {
    const parsed = parseArgs(['audit', 'verify', '--tenant=t1', '--json']);
    expect(parsed.options).toEqual({ tenant: 't1' });
    expect(parsed.positionals).toEqual(['audit', 'verify']);
  });

  it('when an inline value contains "=", then the whole value is kept', () => {
    expect(parseArgs(['--note=a=b=c']).options).toEqual({ note: 'a=b=c' });
  });

  it('when an inline value is empty, then the option is present with an empty value', () => {
    expect(parseArgs(['--tools=']).options).toEqual({ tools: '' });
  });

  it('when a known switch is written with a value, then it becomes an option, not a switch', () => {
    const parsed = parseArgs(['--json=1']);
    expect(parsed.switches.has('json')).toBe(false);
    expect(parsed.options).toEqual({ json: '1' });
  });

  it('when an option is last and has no value, then a CliUsageError names it', () => {
    expect(() => parseArgs(['keys', 'create', '--tenant'])).toThrow(CliUsageError);
    expect(() => parseArgs(['keys', 'create', '--tenant'])).toThrow('--tenant needs a value');
  });

  it('when an option is followed by another option, then a CliUsageError names the first', () => {
    expect(() => parseArgs(['--tenant', '--role', 'agent'])).toThrow('--tenant needs a value');
  });

  it('when the list of known switches is replaced, then only those are switches', () => {
    const parsed = parseArgs(['--force', 'drill', '--json', 'x'], ['force']);
    expect([...parsed.switches]).toEqual(['force']);
    expect(parsed.options).toEqual({ json: 'x' });
    expect(parsed.positionals).toEqual(['drill']);
  });

  it('when an option is repeated, then the last value wins', () => {
    expect(parseArgs(['--tenant', 'a', '--tenant', 'b']).options).toEqual({ tenant: 'b' });
  });

  it('when a value is a single dash word, then it is taken as a value', () => {
    expect(parseArgs(['--tenant', '-x']).options).toEqual({ tenant: '-x' });
  });

  it('when any words without dashes are given, then they are all positionals in order', () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !s.startsWith('--'))), (words) => {
        const parsed = parseArgs(words);
        expect(parsed.positionals).toEqual(words);
        expect(parsed.options).toEqual({});
        expect(parsed.switches.size).toBe(0);
      }),
    );
  });

  it('when argv is frozen, then parsing reads it without changing it', () => {
    const argv = Object.freeze(['keys', 'create', '--tenant', 't1']);
    parseArgs(argv);
    expect(argv).toEqual(['keys', 'create', '--tenant', 't1']);
  });
});
