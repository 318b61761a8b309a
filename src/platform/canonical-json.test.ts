import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalJson, sha256Hex } from './canonical-json.ts';

// Rebuilds every object with its keys inserted in a different order, at every depth.
function reorder(value: unknown, pick: (n: number) => number): unknown {
  if (Array.isArray(value)) return value.map((v) => reorder(v, pick));
  if (value && typeof value === 'object') {
    const keys = Object.keys(value);
    const order: string[] = [];
    while (keys.length) order.push(keys.splice(pick(keys.length), 1)[0]!);
    const out: Record<string, unknown> = {};
    for (const key of order) {
      Object.defineProperty(out, key, {
        value: reorder((value as Record<string, unknown>)[key], pick),
        enumerable: true,
        writable: true,
        configurable: true,
      });
    }
    return out;
  }
  return value;
}

describe('canonicalJson', () => {
  it('when the same value is built with keys in any order at any depth, then the output is identical', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), fc.infiniteStream(fc.nat()), (value, picks) => {
        const it = picks[Symbol.iterator]();
        const shuffled = reorder(value, (n) => it.next().value % n);
        expect(canonicalJson(shuffled)).toBe(canonicalJson(value));
      }),
      { numRuns: 500 },
    );
  });

  it('when any JSON value is canonicalised, then parsing the output gives the same value back', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 5 }), (value) => {
        expect(JSON.parse(canonicalJson(value))).toStrictEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 500 },
    );
  });

  it('when keys are nested, then they are sorted at every depth', () => {
    const value = { b: 1, a: { z: [{ d: 1, c: 2 }], y: { q: 1, p: 2 } } };
    expect(canonicalJson(value)).toBe('{"a":{"y":{"p":2,"q":1},"z":[{"c":2,"d":1}]},"b":1}');
  });

  it('when an array is canonicalised, then its order is kept', () => {
    expect(canonicalJson([3, 1, 2, { b: 1, a: 2 }])).toBe('[3,1,2,{"a":2,"b":1}]');
    expect(canonicalJson({ list: ['b', 'a'] })).not.toBe(canonicalJson({ list: ['a', 'b'] }));
  });

  it('when a property is undefined, then it is dropped at every depth', () => {
    expect(canonicalJson({ a: 1, b: undefined, c: { d: undefined, e: 2 } })).toBe('{"a":1,"c":{"e":2}}');
    expect(canonicalJson({ a: 1, b: undefined })).toBe(canonicalJson({ a: 1 }));
  });

  it('when a value is null, then it is kept and differs from a missing key', () => {
    expect(canonicalJson({ a: null })).toBe('{"a":null}');
    expect(canonicalJson({ a: null })).not.toBe(canonicalJson({}));
  });

  it('when a Date is nested, then it serialises as its ISO string', () => {
    const at = new Date('2024-05-06T07:08:09.010Z');
    expect(canonicalJson({ at })).toBe('{"at":"2024-05-06T07:08:09.010Z"}');
  });

  it('when a key is named __proto__, then it is kept like any other key', () => {
    const evil = JSON.parse('{"x":{"__proto__":"evil"}}') as unknown;
    const good = JSON.parse('{"x":{"__proto__":"good"}}') as unknown;
    expect(canonicalJson(evil)).toBe('{"x":{"__proto__":"evil"}}');
    expect(canonicalJson(evil)).not.toBe(canonicalJson(good));
  });

  it('when two values differ anywhere, then their canonical forms differ', () => {
    fc.assert(
      fc.property(fc.jsonValue({ maxDepth: 4 }), fc.jsonValue({ maxDepth: 4 }), (a, b) => {
        fc.pre(JSON.stringify(a) !== JSON.stringify(b));
        const same = canonicalJson(a) === canonicalJson(b);
        const equal = (() => {
          try {
            expect(JSON.parse(JSON.stringify(a))).toStrictEqual(JSON.parse(JSON.stringify(b)));
            return true;
          } catch {
            return false;
          }
        })();
        expect(same).toBe(equal);
      }),
      { numRuns: 300 },
    );
  });
});

describe('sha256Hex', () => {
  it('when it hashes the standard test vector "abc", then it gives the published digest', () => {
    expect(sha256Hex('abc')).toBe('ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
    expect(sha256Hex(Buffer.from('abc'))).toBe(sha256Hex('abc'));
  });
});
