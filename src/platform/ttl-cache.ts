import { LRUCache } from 'lru-cache';

// A small in-process cache with a time-to-live and a size bound, for values read on every
// request that change rarely (API keys, tenant policies). The TTL is the staleness bound
// other processes accept; the process that makes a change deletes its own entry at once.
// lru-cache keeps the entries and turns concurrent misses on one key into one load.
export interface TtlCache<K, V> {
  get(key: K): Promise<V>;
  delete(key: K): void;
}

export function createTtlCache<K extends object | string | number, V>(options: {
  ttlMs: number;
  maxEntries: number;
  load: (key: K) => Promise<V>;
  now?: () => number;
}): TtlCache<K, V> {
  // lru-cache stores no null, and "no such key" is worth caching too: values are boxed.
  const cache = new LRUCache<K, { value: V }>({
    max: options.maxEntries,
    ttl: options.ttlMs,
    // Read the clock on every check rather than once a millisecond: exact with a test clock,
    // and performance.now() costs less than the timer the debounce needs.
    ttlResolution: 0,
    ...(options.now ? { perf: { now: options.now } } : {}),
    // A delete while a load is in flight (a key revoked, a policy changed here): the waiting
    // callers still get what was loaded, but the cache does not keep it, so a read begun
    // before the change never outlives it. A failed load is not cached.
    ignoreFetchAbort: true,
    fetchMethod: async (key) => ({ value: await options.load(key) }),
  });

  return {
    async get(key) {
      const entry = await cache.fetch(key);
      // fetchMethod always returns an entry and aborts are ignored, so this cannot happen.
      if (!entry) throw new Error('ttl-cache: a load returned nothing');
      return entry.value;
    },
    delete(key) {
      cache.delete(key);
    },
  };
}
