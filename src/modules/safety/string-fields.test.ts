import { describe, expect, it } from 'vitest';
import { collectStringFields } from './string-fields.ts';

describe('collectStringFields', () => {
  it('when arguments nest objects and arrays, then every string comes back with its path', () => {
    const walk = collectStringFields(
      { to: 'a', items: [{ note: 'b' }, 'c'], count: 2, 'x-id': 'd' },
      'arguments',
    );
    expect(walk).toEqual({
      fields: [
        { path: 'arguments.to', value: 'a' },
        { path: 'arguments.items[0].note', value: 'b' },
        { path: 'arguments.items[1]', value: 'c' },
        { path: 'arguments["x-id"]', value: 'd' },
      ],
      truncated: false,
    });
  });

  it('when the value nests deeper than maxDepth, then the walk stops and says so', () => {
    const walk = collectStringFields({ a: { b: { c: 'deep' } } }, 'arguments', { maxDepth: 2 });
    expect(walk).toEqual({ fields: [], truncated: true });
  });

  it('when there are more strings than maxFields, then the walk stops and says so', () => {
    const walk = collectStringFields(['a', 'b', 'c'], 'list', { maxFields: 2 });
    expect(walk.fields.map((f) => f.value)).toEqual(['a', 'b']);
    expect(walk.truncated).toBe(true);
  });

  it('when the value is a bare string, then the root path names it', () => {
    expect(collectStringFields('x', 'root').fields).toEqual([{ path: 'root', value: 'x' }]);
  });
});
