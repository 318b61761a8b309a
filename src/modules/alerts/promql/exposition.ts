// Parses the Prometheus text exposition format (version 0.0.4, what prom-client serves on
// /metrics) into samples. Comments, HELP and TYPE lines carry nothing the rules need.
import type { Labels } from './series-store.ts';

export interface ScrapedSample {
  labels: Labels; // __name__ included
  value: number;
}

export class ExpositionError extends Error {
  constructor(line: number, problem: string) {
    super(`metrics line ${line}: ${problem}`);
    this.name = 'ExpositionError';
  }
}

function parseValue(text: string): number {
  switch (text) {
    case '+Inf':
      return Infinity;
    case '-Inf':
      return -Infinity;
    case 'NaN':
      return NaN;
    default: {
      const value = Number(text);
      return text === '' || Number.isNaN(value) ? NaN : value;
    }
  }
}

export function parseExposition(text: string, keep?: (name: string) => boolean): ScrapedSample[] {
  const samples: ScrapedSample[] = [];
  const lines = text.split('\n');
  for (let n = 0; n < lines.length; n++) {
    const line = lines[n]!.trim();
    if (line === '' || line.startsWith('#')) continue;
    const nameEnd = line.search(/[{\s]/);
    const name = nameEnd < 0 ? line : line.slice(0, nameEnd);
    if (!/^[a-zA-Z_:][a-zA-Z0-9_:]*$/.test(name)) throw new ExpositionError(n + 1, 'invalid metric name');
    if (keep && !keep(name)) continue;
    const labels: Record<string, string> = { __name__: name };
    let i = nameEnd < 0 ? line.length : nameEnd;
    if (line[i] === '{') {
      i++;
      for (;;) {
        while (line[i] === ' ' || line[i] === ',') i++;
        if (line[i] === '}') {
          i++;
          break;
        }
        const eq = line.indexOf('=', i);
        if (eq < 0 || line[eq + 1] !== '"') throw new ExpositionError(n + 1, 'malformed label');
        const labelName = line.slice(i, eq).trim();
        let value = '';
        let j = eq + 2;
        for (; j < line.length && line[j] !== '"'; j++) {
          if (line[j] === '\\') {
            j++;
            value += line[j] === 'n' ? '\n' : line[j];
          } else value += line[j];
        }
        if (j >= line.length) throw new ExpositionError(n + 1, 'unterminated label value');
        labels[labelName] = value;
        i = j + 1;
      }
    }
    // The value, then an optional timestamp that Prometheus would honour; prom-client writes none.
    const [valueText] = line.slice(i).trim().split(/\s+/);
    const value = parseValue(valueText ?? '');
    if (Number.isNaN(value) && valueText !== 'NaN') throw new ExpositionError(n + 1, 'invalid value');
    samples.push({ labels, value });
  }
  return samples;
}
