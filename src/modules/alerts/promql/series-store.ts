// Samples in memory, as Prometheus' head block keeps them, for the local alert evaluation:
// one series per label set, each an append-only run of (timestamp, value) with Prometheus'
// staleness markers. Bounded by a retention window and a series limit.
import type { LabelMatcher } from './promql-ast.ts';

export type Labels = Readonly<Record<string, string>>;

export interface SeriesPoints {
  labels: Labels;
  timestamps: number[]; // ms, ascending
  values: number[];
}

interface StoredSeries extends SeriesPoints {
  // Timestamps of staleness markers: the series was absent from a scrape (or the target
  // was down) at that instant, so instant queries stop seeing its older samples.
  stale: Set<number>;
}

// How far back an instant selector looks for a sample (Prometheus' --query.lookback-delta).
export const LOOKBACK_MS = 5 * 60_000;

export class SeriesLimitError extends Error {
  constructor(limit: number) {
    super(`the local alert evaluation holds its limit of ${limit} series; new series are dropped`);
    this.name = 'SeriesLimitError';
  }
}

export function labelsKey(labels: Labels): string {
  return Object.keys(labels)
    .sort()
    .map((name) => `${name}\u0000${labels[name]}`)
    .join('\u0001');
}

export function matches(labels: Labels, matchers: readonly LabelMatcher[]): boolean {
  return matchers.every((m) => {
    const value = labels[m.name] ?? '';
    switch (m.op) {
      case '=':
        return value === m.value;
      case '!=':
        return value !== m.value;
      case '=~':
        return m.regex!.test(value);
      case '!~':
        return !m.regex!.test(value);
    }
  });
}

function lastIndexAtOrBefore(timestamps: readonly number[], t: number): number {
  let lo = 0;
  let hi = timestamps.length - 1;
  let found = -1;
  while (lo <= hi) {
    const mid = (lo + hi) >> 1;
    if (timestamps[mid]! <= t) {
      found = mid;
      lo = mid + 1;
    } else hi = mid - 1;
  }
  return found;
}

export class SeriesStore {
  private readonly series = new Map<string, StoredSeries>();
  private readonly byName = new Map<string, Set<StoredSeries>>();
  private readonly maxSeries: number;

  constructor(options: { maxSeries: number }) {
    this.maxSeries = options.maxSeries;
  }

  get size(): number {
    return this.series.size;
  }

  /** Appends a sample (or a staleness marker). Samples out of order for their series are dropped, as Prometheus drops them. */
  append(labels: Labels, t: number, value: number | 'stale'): void {
    const key = labelsKey(labels);
    let stored = this.series.get(key);
    if (!stored) {
      if (value === 'stale') return;
      if (this.series.size >= this.maxSeries) throw new SeriesLimitError(this.maxSeries);
      stored = { labels: { ...labels }, timestamps: [], values: [], stale: new Set() };
      this.series.set(key, stored);
      const name = labels.__name__ ?? '';
      let named = this.byName.get(name);
      if (!named) this.byName.set(name, (named = new Set()));
      named.add(stored);
    }
    const last = stored.timestamps.at(-1);
    if (last !== undefined && t <= last) return;
    stored.timestamps.push(t);
    stored.values.push(value === 'stale' ? NaN : value);
    if (value === 'stale') stored.stale.add(t);
  }

  /** Whether the series' newest sample is live (not a staleness marker). */
  isLive(labels: Labels): boolean {
    const stored = this.series.get(labelsKey(labels));
    const last = stored?.timestamps.at(-1);
    return last !== undefined && !stored!.stale.has(last);
  }

  private candidates(matchers: readonly LabelMatcher[]): Iterable<StoredSeries> {
    const name = matchers.find((m) => m.name === '__name__' && m.op === '=');
    return name ? (this.byName.get(name.value) ?? []) : this.series.values();
  }

  /** The newest sample of each matching series in [t - lookback, t], unless it is a staleness marker. */
  instant(matchers: readonly LabelMatcher[], t: number): { labels: Labels; value: number }[] {
    const out: { labels: Labels; value: number }[] = [];
    for (const s of this.candidates(matchers)) {
      if (!matches(s.labels, matchers)) continue;
      const i = lastIndexAtOrBefore(s.timestamps, t);
      if (i < 0) continue;
      const at = s.timestamps[i]!;
      if (at < t - LOOKBACK_MS || s.stale.has(at)) continue;
      out.push({ labels: s.labels, value: s.values[i]! });
    }
    return out;
  }

  /** The samples of each matching series in the closed range [start, end], staleness markers left out. */
  range(matchers: readonly LabelMatcher[], start: number, end: number): SeriesPoints[] {
    const out: SeriesPoints[] = [];
    for (const s of this.candidates(matchers)) {
      if (!matches(s.labels, matchers)) continue;
      const last = lastIndexAtOrBefore(s.timestamps, end);
      const first = lastIndexAtOrBefore(s.timestamps, start - 1) + 1;
      if (last < first) continue;
      const timestamps: number[] = [];
      const values: number[] = [];
      for (let i = first; i <= last; i++) {
        if (s.stale.has(s.timestamps[i]!)) continue;
        timestamps.push(s.timestamps[i]!);
        values.push(s.values[i]!);
      }
      if (timestamps.length) out.push({ labels: s.labels, timestamps, values });
    }
    return out;
  }

  /** Drops samples older than `before`, and series left with none. */
  prune(before: number): void {
    for (const [key, s] of this.series) {
      const keep = lastIndexAtOrBefore(s.timestamps, before - 1) + 1;
      if (keep === 0) continue;
      for (const t of s.timestamps.slice(0, keep)) s.stale.delete(t);
      s.timestamps.splice(0, keep);
      s.values.splice(0, keep);
      if (s.timestamps.length === 0) {
        this.series.delete(key);
        this.byName.get(s.labels.__name__ ?? '')?.delete(s);
      }
    }
  }
}
