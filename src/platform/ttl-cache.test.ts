import { describe, expect, it } from 'vitest';
import { createTtlCache } from './ttl-cache.ts';

// A cache whose loads count themselves, on a clock the test moves.
function counting(options: { ttlMs: number; maxEntries: number; clock?: { now: number } }) {
  let loads = 0;
  const cache = createTtlCache<string, number>({
    ttlMs: options.ttlMs,
    maxEntries: options.maxEntries,
    now: options.clock ? () => options.clock!.now : undefined,
    load: async () => ++loads,
  });
  return { cache, loads: () => loads };
}

describe('createTtlCache', () => {
  it('when a value is fresh, then it is served without loading again', async () => {
    const clock = { now: 1_000 };
    const { cache, loads } = counting({ ttlMs: 100, maxEntries: 10, clock });
    expect(await cache.get('a')).toBe(1);
    clock.now += 100;
    expect(await cache.get('a')).toBe(1);
    expect(loads()).toBe(1);
  });

  it('when the TTL has passed or the entry was deleted, then it loads again', async () => {
    const clock = { now: 1_000 };
    const { cache } = counting({ ttlMs: 100, maxEntries: 10, clock });
    await cache.get('a');
    clock.now += 101;
    expect(await cache.get('a')).toBe(2);
    cache.delete('a');
    expect(await cache.get('a')).toBe(3);
  });

  it('when it is full, then the least recently used entry is dropped', async () => {
    const { cache } = counting({ ttlMs: 1_000, maxEntries: 2 });
    await cache.get('a'); // 1
    await cache.get('b'); // 2
    await cache.get('a'); // a is now the most recently used
    await cache.get('c'); // 3, drops b
    expect(await cache.get('a')).toBe(1);
    expect(await cache.get('b')).toBe(4);
  });

  it('when a load fails, then nothing is cached', async () => {
    let fail = true;
    const cache = createTtlCache<string, number>({
      ttlMs: 1_000,
      maxEntries: 2,
      load: async () => (fail ? Promise.reject(new Error('down')) : 7),
    });
    await expect(cache.get('a')).rejects.toThrow('down');
    fail = false;
    expect(await cache.get('a')).toBe(7);
  });

  it('when the value is null, then it is cached like any other', async () => {
    let loads = 0;
    const cache = createTtlCache<string, null>({
      ttlMs: 1_000,
      maxEntries: 2,
      load: async () => (loads++, null),
    });
    expect(await cache.get('unknown-key')).toBeNull();
    expect(await cache.get('unknown-key')).toBeNull();
    expect(loads).toBe(1);
  });

  it('when many callers miss the same key at once, then it is loaded once and all get the value', async () => {
    let loads = 0;
    let release!: (value: number) => void;
    const cache = createTtlCache<string, number>({
      ttlMs: 1_000,
      maxEntries: 10,
      load: () => (loads++, new Promise<number>((resolve) => (release = resolve))),
    });
    const waiting = Array.from({ length: 20 }, () => cache.get('a'));
    release(42);
    expect(await Promise.all(waiting)).toEqual(Array(20).fill(42));
    expect(loads).toBe(1);
  });

  it('when the key is deleted while a load is in flight, then callers get the loaded value but the cache does not keep it', async () => {
    const releases: Array<(value: number) => void> = [];
    const cache = createTtlCache<string, number>({
      ttlMs: 1_000,
      maxEntries: 10,
      load: () => new Promise<number>((resolve) => releases.push(resolve)),
    });
    const before = cache.get('a');
    cache.delete('a'); // e.g. the key was revoked in this process meanwhile
    releases[0]!(1);
    expect(await before).toBe(1);
    const after = cache.get('a');
    expect(releases).toHaveLength(2);
    releases[1]!(2);
    expect(await after).toBe(2);
  });
});
