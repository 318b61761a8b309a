// A small in-process cache with a time-to-live and a size bound, for values read on every
// request that change rarely (API keys, tenant policies). The TTL is the staleness bound
// other processes accept; the process that makes a change deletes its own entry at once.
export interface TtlCache<K, V> {
  get(key: K, load: () => Promise<V>): Promise<V>;
  delete(key: K): void;
}

export function createTtlCache<K, V>(options: {
  ttlMs: number;
  maxEntries: number;
  now?: () => number;
}): TtlCache<K, V> {
  const now = options.now ?? Date.now;
  const entries = new Map<K, { value: V; expires: number }>();

  return {
    async get(key, load) {
      const hit = entries.get(key);
      if (hit && hit.expires > now()) return hit.value;
      const value = await load();
      if (entries.size >= options.maxEntries) {
        // Maps iterate in insertion order: drop the oldest entry.
        const oldest = entries.keys().next();
        if (!oldest.done) entries.delete(oldest.value);
      }
      entries.set(key, { value, expires: now() + options.ttlMs });
      return value;
    },
    delete(key) {
      entries.delete(key);
    },
  };
}
