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

type Argument = { kind: 'value' } | { kind: 'label'; name: string };
type Pipe = { fn: 'humanize' | 'humanizeDuration' | 'humanizePercentage' } | { fn: 'printf'; format: string };
type Part = string | { arg: Argument; pipes: Pipe[] };

const ACTION = /\{\{-?\s*(.*?)\s*-?\}\}/gs;

// Go's strconv 'g' and 'e' formats: %e writes at least two exponent digits, %g switches to
// %e when the exponent is below -4 or at least the precision (6 for the shortest form).
function goExponential(mantissa: string, exponent: number): string {
  const sign = exponent < 0 ? '-' : '+';
  return `${mantissa}e${sign}${String(Math.abs(exponent)).padStart(2, '0')}`;
}

export function formatGoFloat(value: number, verb: 'g' | 'f' | 'e', precision?: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (!Number.isFinite(value)) return value > 0 ? '+Inf' : '-Inf';
  if (verb === 'f') return value.toFixed(precision ?? 6);
  const exp =
    value === 0
      ? '0e+0'
      : precision === undefined
        ? value.toExponential()
        : value.toExponential(Math.max(precision, 1) - 1);
  const [rawMantissa, rawExponent] = exp.split('e') as [string, string];
  const exponent = Number(rawExponent);
  if (verb === 'e') return goExponential(rawMantissa, exponent);
  const negative = rawMantissa.startsWith('-');
  const digits = rawMantissa.replace(/[-.]/g, '').replace(/0+$/, '') || '0';
  const nd = digits.length;
  const dp = exponent + 1;
  let prec = precision === undefined ? nd : Math.max(precision, 1);
  let eprec = prec;
  if (eprec > nd && nd >= dp) eprec = nd;
  if (precision === undefined) eprec = 6;
  if (exponent < -4 || exponent >= eprec) {
    const shown = Math.min(prec, nd);
    const mantissa = shown > 1 ? `${digits[0]}.${digits.slice(1, shown)}` : digits[0]!;
    return goExponential(`${negative ? '-' : ''}${mantissa}`, exponent);
  }
  if (prec > dp) prec = nd;
  return Number(`${negative ? '-' : ''}${digits[0]}.${digits.slice(1)}e${exponent}`).toFixed(
    Math.max(prec - dp, 0),
  );
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
    const label = /^(?:\$labels|\.Labels)\.([A-Za-z_][A-Za-z0-9_]*)$/.exec(head ?? '');
    if (!label) throw new TemplateError(`unsupported template action "{{ ${action} }}"`);
    arg = { kind: 'label', name: label[1]! };
  }
  const pipes = rest.map(parsePipe);
  if (arg.kind === 'label' && pipes.length)
    throw new TemplateError(`a label cannot be piped: "{{ ${action} }}"`);
  return { arg, pipes };
}

export interface AlertTemplate {
  render(labels: Labels, value: number): string;
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
    render(labels, value) {
      return parts
        .map((part) => {
          if (typeof part === 'string') return part;
          if (part.arg.kind === 'label') return labels[part.arg.name] ?? '';
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
