// Renders the alert annotations of the shipped rule files ("{{ $labels.queue }}",
// "{{ $value | humanizeDuration }}", "{{ $value | printf \"%.0f\" }}") as Prometheus' Go
// templates render them, for the subset those files use. A template outside that subset
// is rejected when the rules load, so a pager never shows a half-rendered text.
import type { Labels } from '../promql/series-store.ts';

export class TemplateError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateError';
  }
}

type Argument = { kind: 'value' } | { kind: 'label' | 'externalLabel'; name: string };
type Pipe = { fn: 'humanize' | 'humanizeDuration' | 'humanizePercentage' } | { fn: 'printf'; format: string };
type Part = string | { arg: Argument; pipes: Pipe[] };

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs;

// Go's strconv 'g' and 'e' formats: %e writes at least two exponent digits, %g switches to
// %e when the exponent is below -4 or at least the precision (6 for the shortest form).
function goExponential(mantissa: string, exponent: number): string {
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

// The decimal digits of |value| rounded to `significant` digits (all of the shortest form
// when undefined), and the exponent of the first. JavaScript rounds an exact tie up, Go to
// even (1234.5 -> 1234): a tie is a shortest form one digit longer, ending in 5, that is
// the double's exact value.
function decimalDigits(value: number, significant?: number): { digits: string; exponent: number } {
  const split = (text: string) => {
    const [mantissa, exponent] = text.split('e') as [string, string];
    return { digits: mantissa.replace(/[-.]/g, '').replace(/0+$/, '') || '0', exponent: Number(exponent) };
  };
  const abs = Math.abs(value);
  const shortest = split(abs.toExponential());
  if (significant === undefined || shortest.digits.length <= significant) return shortest;
  if (shortest.digits.length === significant + 1 && shortest.digits.endsWith('5')) {
    const scale = shortest.exponent - significant;
    const exact =
      scale >= 0
        ? BigInt(abs) === BigInt(shortest.digits) * 10n ** BigInt(scale)
        : BigInt(shortest.digits) % 5n ** BigInt(-scale) === 0n;
    const kept = shortest.digits.slice(0, significant);
    if (exact && Number(kept.at(-1)) % 2 === 0) {
      return { digits: kept.replace(/0+$/, '') || '0', exponent: shortest.exponent };
    }
  }
  return split(abs.toExponential(significant - 1));
}

function fixed(negative: boolean, digits: string, exponent: number, decimals: number): string {
  const padded = exponent >= 0 ? digits.padEnd(exponent + 1, '0') : '0'.repeat(-exponent) + digits;
  const point = Math.max(exponent, 0) + 1;
  const whole = padded.slice(0, point);
  const fraction = padded.slice(point).padEnd(decimals, '0').slice(0, decimals);
  return `${negative ? '-' : ''}${whole}${decimals > 0 ? `.${fraction}` : ''}`;
}

export function formatGoFloat(value: number, verb: 'g' | 'f' | 'e', precision?: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  const negative = value < 0 || Object.is(value, -0);
  if (verb === 'f') {
    const decimals = precision ?? 6;
    if (value === 0) return fixed(negative, '0', 0, decimals);
    // Significant digits up to the last decimal shown, rounded as Go rounds them.
    const exponent = Math.floor(Math.log10(Math.abs(value)));
    const significant = exponent + 1 + decimals;
    if (significant <= 0) return fixed(negative, '0', 0, decimals);
    const rounded = decimalDigits(value, significant);
    return fixed(negative, rounded.digits, rounded.exponent, decimals);
  }
  const { digits, exponent } =
    value === 0
      ? { digits: '0', exponent: 0 }
      : decimalDigits(value, precision === undefined ? undefined : Math.max(precision, 1));
  const sign = negative ? '-' : '';
  const nd = digits.length;
  const mantissa = (shown: number) => (shown > 1 ? `${digits[0]}.${digits.slice(1, shown)}` : digits[0]!);
  if (verb === 'e') return goExponential(`${sign}${mantissa(nd)}`, exponent);
  const dp = exponent + 1;
  let prec = precision === undefined ? nd : Math.max(precision, 1);
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (precision === undefined) eprec = 6;
  if (exponent < -4 || exponent >= eprec)
    return goExponential(`${sign}${mantissa(Math.min(prec, nd))}`, exponent);
  if (prec > dp) prec = nd;
  return fixed(negative, digits, exponent, Math.max(prec - dp, 0));
}

function humanizeDuration(v: number): string {
  if (!Number.isFinite(v)) return formatGoFloat(v, 'g', 4);
  if (v === 0) return '0s';
  if (Math.abs(v) >= 1) {
    const sign = v < 0 ? '-' : '';
    const abs = Math.abs(v);
    const whole = Math.trunc(abs);
    const seconds = whole % 60;
    const minutes = Math.trunc(whole / 60) % 60;
    const hours = Math.trunc(whole / 3600) % 24;
    const days = Math.trunc(whole / 86_400);
    if (days) return `${sign}${days}d ${hours}h ${minutes}m ${seconds}s`;
    if (hours) return `${sign}${hours}h ${minutes}m ${seconds}s`;
    if (minutes) return `${sign}${minutes}m ${seconds}s`;
    return `${sign}${formatGoFloat(abs, 'g', 4)}s`;
  }
  let prefix = '';
  let scaled = v;
  for (const p of ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y']) {
    if (Math.abs(scaled) >= 1) break;
    prefix = p;
    scaled *= 1000;
  }
  return `${formatGoFloat(scaled, 'g', 4)}${prefix}s`;
}

function humanize(v: number): string {
  if (v === 0 || !Number.isFinite(v)) return formatGoFloat(v, 'g', 4);
  const abs = Math.abs(v);
  const up = ['k', 'M', 'G', 'T', 'P', 'E', 'Z', 'Y'];
  const down = ['m', 'u', 'n', 'p', 'f', 'a', 'z', 'y'];
  let prefix = '';
  let scaled = v;
  if (abs >= 1) {
    for (const p of up) {
      if (Math.abs(scaled) < 1000) break;
      prefix = p;
      scaled /= 1000;
    }
  } else {
    for (const p of down) {
      if (Math.abs(scaled) >= 1) break;
      prefix = p;
      scaled *= 1000;
    }
  }
  return `${formatGoFloat(scaled, 'g', 4)}${prefix}`;
}

function printf(format: string, value: number): string {
  const match = /^([^%]*)%(?:\.(\d+))?([dfegs])([^%]*)$/.exec(format);
  if (!match) throw new TemplateError(`unsupported printf format "${format}"`);
  const [, before, precision, verb, after] = match;
  const p = precision === undefined ? undefined : Number(precision);
  const body =
    verb === 'd'
      ? String(Math.trunc(value))
      : verb === 's'
        ? formatGoFloat(value, 'g')
        : formatGoFloat(value, verb as 'f' | 'e' | 'g', p);
  return `${before}${body}${after}`;
}

function parsePipe(text: string): Pipe {
  const printfMatch = /^printf\s+"((?:[^"\\]|\\.)*)"$/.exec(text);
  if (printfMatch) {
    const format = JSON.parse(`"${printfMatch[1]}"`) as string;
    printf(format, 0);
    return { fn: 'printf', format };
  }
  if (text === 'humanize' || text === 'humanizeDuration' || text === 'humanizePercentage')
    return { fn: text };
  throw new TemplateError(`unsupported template function "${text}"`);
}

function parseAction(action: string): Part {
  const [head, ...rest] = action.split('|').map((s) => s.trim());
  let arg: Argument;
  if (head === '$value' || head === '.Value') arg = { kind: 'value' };
  else {
    const label =
      /^(?:\$labels|\.Labels|(\$externalLabels|\.ExternalLabels))\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(
        head ?? '',
      );
    if (!label) throw new TemplateError(`unsupported template action "{{ ${action} }}"`);
    arg = { kind: label[1] ? 'externalLabel' : 'label', name: label[2]! };
  }
  const pipes = rest.map(parsePipe);
  if (arg.kind !== 'value' && pipes.length)
    throw new TemplateError(`a label cannot be piped: "{{ ${action} }}"`);
  return { arg, pipes };
}

export interface AlertTemplate {
  render(labels: Labels, value: number, externalLabels?: Labels): string;
}

/** Compiles a template once, when the rules load; throws TemplateError for anything outside the supported subset. */
export function compileTemplate(source: string): AlertTemplate {
  const parts: Part[] = [];
  let last = 0;
  for (const match of source.matchAll(ACTION)) {
    parts.push(source.slice(last, match.index));
    parts.push(parseAction(match[1]!));
    last = match.index + match[0].length;
  }
  parts.push(source.slice(last));
  return {
    render(labels, value, externalLabels = {}) {
      return parts
        .map((part) => {
          if (typeof part === 'string') return part;
          if (part.arg.kind === 'label') return labels[part.arg.name] ?? '';
          if (part.arg.kind === 'externalLabel') return externalLabels[part.arg.name] ?? '';
          let out: string | number = value;
          for (const pipe of part.pipes) {
            const v = out as number;
            if (pipe.fn === 'printf') out = printf(pipe.format, v);
            else if (pipe.fn === 'humanize') out = humanize(v);
            else if (pipe.fn === 'humanizeDuration') out = humanizeDuration(v);
            else out = `${formatGoFloat(v * 100, 'g', 4)}%`;
          }
          return typeof out === 'number' ? formatGoFloat(out, 'g') : out;
        })
        .join('');
    },
  };
}
