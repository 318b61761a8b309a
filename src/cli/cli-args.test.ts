import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CliUsageError, parseArgs } from './cli-args.ts';

const SPEC = { options: ['tenant', 'role', 'note', 'tools'], switches: ['json', 'help'] };

describe('parseArgs', () => {
  it('when words, options and switches are mixed, then each lands in its own bucket', () => {
    const parsed = parseArgs(['keys', 'create', '--tenant', 't1', '--json', '--role', 'agent'], SPEC);
    expect(parsed.positionals).toEqual(['keys', 'create']);
    expect(parsed.options).toEqual({ tenant: 't1', role: 'agent' });
    expect([...parsed.switches]).toEqual(['json']);
  });

  it('when --json comes before a positional word, then it does not swallow the word', () => {
    const parsed = parseArgs(['flags', '--json', 'list'], SPEC);
    expect(parsed.positionals).toEqual(['flags', 'list']);
    expect(parsed.switches.has('json')).toBe(true);
    expect(parsed.options).toEqual({});
  });

  it('when --help is given, then it is a switch', () => {
    expect(parseArgs(['--help'], SPEC).switches.has('help')).toBe(true);
  });

  it('when an option uses the --name=value form, then the value is taken inline', () => {
    const parsed = parseArgs(['audit', 'verify', '--tenant=t1', '--json'], SPEC);
    expect(parsed.options).toEqual({ tenant: 't1' });
    expect(parsed.positionals).toEqual(['audit', 'verify']);
  });

  it('when an inline value contains "=", then the whole value is kept', () => {
    expect(parseArgs(['--note=a=b=c'], SPEC).options).toEqual({ note: 'a=b=c' });
  });

  it('when an inline value is empty, then the option is present with an empty value', () => {
    expect(parseArgs(['--tools='], SPEC).options).toEqual({ tools: '' });
  });

  it('when an option is not declared, then a CliUsageError names it', () => {
    expect(() => parseArgs(['keys', 'create', '--tennant', 't1'], SPEC)).toThrow(CliUsageError);
    expect(() => parseArgs(['keys', 'create', '--tennant', 't1'], SPEC)).toThrow("'--tennant'");
  });

  it('when a switch is written with a value, then it is a usage error', () => {
    expect(() => parseArgs(['--json=1'], SPEC)).toThrow(CliUsageError);
  });

  it('when an option is last and has no value, then a CliUsageError names it', () => {
    expect(() => parseArgs(['keys', 'create', '--tenant'], SPEC)).toThrow(CliUsageError);
    expect(() => parseArgs(['keys', 'create', '--tenant'], SPEC)).toThrow("'--tenant <value>'");
  });

  it('when an option is followed by another option, then a CliUsageError names the first', () => {
    expect(() => parseArgs(['--tenant', '--role', 'agent'], SPEC)).toThrow("'--tenant'");
  });

  it('when the spec is replaced, then only what it declares is accepted', () => {
    const parsed = parseArgs(['--force', 'drill', '--json', 'x'], { switches: ['force'], options: ['json'] });
    expect([...parsed.switches]).toEqual(['force']);
    expect(parsed.options).toEqual({ json: 'x' });
    expect(parsed.positionals).toEqual(['drill']);
    expect(() => parseArgs(['--help'], { switches: ['force'] })).toThrow(CliUsageError);
  });

  it('when an option is repeated, then the last value wins', () => {
    expect(parseArgs(['--tenant', 'a', '--tenant', 'b'], SPEC).options).toEqual({ tenant: 'b' });
  });

  it('when a value starts with a dash, then it is taken in the inline form and refused in the spaced one', () => {
    expect(parseArgs(['--tenant=-x'], SPEC).options).toEqual({ tenant: '-x' });
    expect(() => parseArgs(['--tenant', '-x'], SPEC)).toThrow(CliUsageError);
  });

  it('when words follow "--", then they are positionals even if they look like options', () => {
    expect(parseArgs(['dlq', '--', '--json'], SPEC)).toMatchObject({ positionals: ['dlq', '--json'] });
  });

  it('when any words without dashes are given, then they are all positionals in order', () => {
    fc.assert(
      fc.property(fc.array(fc.string().filter((s) => !s.startsWith('-'))), (words) => {
        const parsed = parseArgs(words, SPEC);
        expect(parsed.positionals).toEqual(words);
        expect(parsed.options).toEqual({});
        expect(parsed.switches.size).toBe(0);
      }),
    );
  });

  it('when argv is frozen, then parsing reads it without changing it', () => {
    const argv = Object.freeze(['keys', 'create', '--tenant', 't1']);
    parseArgs(argv, SPEC);
    expect(argv).toEqual(['keys', 'create', '--tenant', 't1']);
  });
});
