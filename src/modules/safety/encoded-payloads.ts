// Finds text that was hidden by encoding it (base64, hex, percent-encoding, HTML character
// references, \u and \x escapes) and decodes it
// so the caller can scan it like any other text.
//
// Decoding is attacker-controlled work, so it is bounded by a budget the caller owns and
// shares across nested layers: a number of decode attempts and a number of decoded
// characters. Runs are located in the original text (encodings are case-sensitive), and
// a decoded payload is only returned when it reads as text: valid UTF-8, mostly
// printable. Random identifiers that merely look like base64 decode to binary and drop
// out here.

export type EncodingLayer =
  'decoded:base64' | 'decoded:hex' | 'decoded:url' | 'decoded:html' | 'decoded:unicode';

export interface EncodedPayload {
  layer: EncodingLayer;
  // The encoded run in the scanned text.
  start: number;
  end: number;
  decoded: string;
}

export interface DecodeBudget {
  // Decode attempts left, successful or not.
  decodes: number;
  // Decoded characters left across all payloads.
  chars: number;
}

const ESCAPED_HEX_RUN = /(?:\\x[0-9a-fA-F]{2}){8,}/g;
const SPACED_HEX_RUN = /\b[0-9a-fA-F]{2}(?:[ :,][0-9a-fA-F]{2}){7,}\b/g;
// At least three escapes, each gap free of whitespace and '%': the gaps exclude the
// character that starts the next escape, so scanning stays linear.
const PERCENT_RUN = /%[0-9a-fA-F]{2}(?:[^\s%]{0,40}%[0-9a-fA-F]{2}){2,}[^\s%]{0,80}/g;
// Runs of text holding at least four character references ("&#105;&#103;" or "&lt;"),
// with short plain stretches between them; the gaps exclude '&' so scanning is linear.
const HTML_ENTITY_RUN =
  /&(?:#x?[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});(?:[^&<>]{0,40}&(?:#x?[0-9a-fA-F]{1,6}|[a-zA-Z]{2,8});){3,}/g;
// Runs of at least four \uXXXX, \u{X..} or \xXX escapes, with short gaps as above.
const UNICODE_ESCAPE_RUN =
  /\\(?:u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2})(?:[^\\]{0,40}\\(?:u[0-9a-fA-F]{4}|u\{[0-9a-fA-F]{1,6}\}|x[0-9a-fA-F]{2})){3,}/g;
const NAMED_ENTITIES: Readonly<Record<string, string>> = {
  amp: '&',
  lt: '<',
  gt: '>',
  quot: '"',
  apos: "'",
  nbsp: ' ',
  colon: ':',
  sol: '/',
  period: '.',
  comma: ',',
  lpar: '(',
  rpar: ')',
  lsqb: '[',
  rsqb: ']',
  excl: '!',
  quest: '?',
  num: '#',
  equals: '=',
  plus: '+',
  hyphen: '-',
  newline: '\n',
  tab: '\t',
};

const MIN_RUN_LENGTH = 16;
const HAS_UPPER = /[A-Z]/;
const HAS_LOWER = /[a-z]/;
const ONLY_HEX = /^[0-9a-fA-F]+$/;
const ONLY_DIGITS = /^\d+$/;
// How far back a percent run may extend over plain characters, such as "ignore" in
// "ignore%20all%20previous".
const MAX_PERCENT_PREFIX = 200;
const MIN_DECODED_LENGTH = 4;
const MIN_PRINTABLE_RATIO = 0.9;

export function findEncodedPayloads(text: string, budget: DecodeBudget): EncodedPayload[] {
  const payloads: EncodedPayload[] = [];
  for (const run of findAlphabetRuns(text)) {
    if (budget.decodes <= 0 || budget.chars <= 0) break;
    const raw = text.slice(run.start, run.end);
    // Runs are maximal, so a hex-only run has nothing alphanumeric touching it. Digits
    // alone (card, phone and order numbers) are skipped without spending the budget: hex
    // of any English sentence needs the letters a-f.
    const hexDigits = /^0[xX]/.test(raw) ? raw.slice(2) : raw;
    if (ONLY_DIGITS.test(hexDigits)) continue;
    if (ONLY_HEX.test(hexDigits)) {
      pushHex(hexDigits, run.start, run.end, budget, payloads);
    } else {
      pushBase64(raw, run.start, budget, payloads);
    }
  }
  // The rarer forms are only looked for when their marker character is present at all.
  if (text.includes('\\x')) {
    for (const match of text.matchAll(ESCAPED_HEX_RUN)) {
      pushHex(match[0].replace(/\\x/g, ''), match.index, match.index + match[0].length, budget, payloads);
    }
  }
  if (/[0-9a-fA-F]{2}[ :,][0-9a-fA-F]{2}[ :,][0-9a-fA-F]{2}[ :,]/.test(text)) {
    for (const match of text.matchAll(SPACED_HEX_RUN)) {
      pushHex(match[0].replace(/[ :,]/g, ''), match.index, match.index + match[0].length, budget, payloads);
    }
  }
  if (text.includes('%')) collectPercent(text, budget, payloads);
  if (text.includes('&'))
    collectRuns(text, HTML_ENTITY_RUN, 'decoded:html', decodeHtmlEntities, budget, payloads);
  if (text.includes('\\')) {
    collectRuns(text, UNICODE_ESCAPE_RUN, 'decoded:unicode', decodeUnicodeEscapes, budget, payloads);
  }
  return payloads.sort((a, b) => a.start - b.start);
}

// The base64 and base64url alphabets together.
function inAlphabet(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) || // 0-9
    (code >= 0x41 && code <= 0x5a) || // A-Z
    (code >= 0x61 && code <= 0x7a) || // a-z
    code === 0x2b || // +
    code === 0x2f || // /
    code === 0x5f || // _
    code === 0x2d // -
  );
}

// Maximal runs of base64/base64url characters of at least MIN_RUN_LENGTH, with trailing
// '=' padding, joined across the line breaks MIME puts in long base64.
//
// A run of MIN_RUN_LENGTH or more that starts at or after i must cover position
// i + MIN_RUN_LENGTH - 1, so when that one character is outside the alphabet the scan can
// jump a whole run length ahead. Ordinary prose is mostly jumps; every character is
// looked at no more than twice.
function findAlphabetRuns(text: string): Array<{ start: number; end: number }> {
  const runs: Array<{ start: number; end: number }> = [];
  // Invariant: text[i - 1] is outside the alphabet, so no run continues into i.
  let i = 0;
  while (i + MIN_RUN_LENGTH <= text.length) {
    const probe = i + MIN_RUN_LENGTH - 1;
    if (!inAlphabet(text.charCodeAt(probe))) {
      i = probe + 1;
      continue;
    }
    let start = probe;
    while (start > i && inAlphabet(text.charCodeAt(start - 1))) start -= 1;
    let end = skipRun(text, probe);
    if (end - start >= MIN_RUN_LENGTH) {
      end = joinContinuationLines(text, end);
      runs.push({ start, end });
    }
    i = inAlphabet(text.charCodeAt(end - 1)) ? end + 1 : end;
  }
  return runs;
}

// Continuation lines: a newline (optionally CR first) followed by at least 4 more.
function joinContinuationLines(text: string, runEnd: number): number {
  let end = runEnd;
  for (;;) {
    const newline = text.charCodeAt(end) === 0x0d ? end + 1 : end;
    if (text.charCodeAt(newline) !== 0x0a) return end;
    const next = skipRun(text, newline + 1);
    if (next - (newline + 1) < 4) return end;
    end = next;
  }
}

// Past the alphabet characters from `from`, then past up to two '=' of padding.
function skipRun(text: string, from: number): number {
  let i = from;
  while (i < text.length && inAlphabet(text.charCodeAt(i))) i += 1;
  for (let pad = 0; pad < 2 && text.charCodeAt(i) === 0x3d; pad++) i += 1;
  return i;
}

function pushBase64(raw: string, start: number, budget: DecodeBudget, payloads: EncodedPayload[]): void {
  const run = raw.replace(/\r?\n/g, '');
  // Plain words and all-one-case identifiers are not worth a decode: base64 of any real
  // sentence mixes upper and lower case.
  if (!HAS_UPPER.test(run) || !HAS_LOWER.test(run)) return;
  const decoded = decodeBase64Text(run, budget);
  if (decoded !== null) {
    payloads.push({ layer: 'decoded:base64', start, end: start + raw.length, decoded });
    return;
  }
  // A run inside a URL path swallows the slashes; try the segments on their own.
  if (!run.includes('/')) return;
  let offset = start;
  for (const segment of raw.split('/')) {
    if (budget.decodes <= 0) return;
    const body = segment.replace(/\r?\n/g, '');
    if (body.length >= MIN_RUN_LENGTH && HAS_UPPER.test(body) && HAS_LOWER.test(body)) {
      const segmentText = decodeBase64Text(body, budget);
      if (segmentText !== null) {
        payloads.push({
          layer: 'decoded:base64',
          start: offset,
          end: offset + segment.length,
          decoded: segmentText,
        });
      }
    }
    offset += segment.length + 1;
  }
}

function decodeBase64Text(run: string, budget: DecodeBudget): string | null {
  const body = run.replace(/=+$/, '');
  if (body.length % 4 === 1) return null;
  // Only as much as the budget allows, cut on a 4-character boundary so the prefix still
  // decodes cleanly.
  const maxEncoded = Math.floor((budget.chars * 4) / 3 / 4) * 4;
  const encoded = body.length > maxEncoded ? body.slice(0, maxEncoded) : body;
  return spend(budget, () => Buffer.from(encoded, 'base64'));
}

function pushHex(
  digits: string,
  start: number,
  end: number,
  budget: DecodeBudget,
  payloads: EncodedPayload[],
): void {
  if (budget.decodes <= 0 || budget.chars <= 0) return;
  const evenLength = Math.min(digits.length - (digits.length % 2), budget.chars * 2);
  const decoded = spend(budget, () => Buffer.from(digits.slice(0, evenLength), 'hex'));
  if (decoded !== null) payloads.push({ layer: 'decoded:hex', start, end, decoded });
}

function collectPercent(text: string, budget: DecodeBudget, payloads: EncodedPayload[]): void {
  for (const match of text.matchAll(PERCENT_RUN)) {
    if (budget.decodes <= 0 || budget.chars <= 0) return;
    const start = extendOverPlainPrefix(text, match.index);
    const end = match.index + match[0].length;
    const encoded = text.slice(start, Math.min(end, start + budget.chars * 3));
    const decoded = spend(budget, () => percentDecode(encoded));
    if (decoded !== null) payloads.push({ layer: 'decoded:url', start, end, decoded });
  }
}

function extendOverPlainPrefix(text: string, index: number): number {
  let start = index;
  const limit = Math.max(0, index - MAX_PERCENT_PREFIX);
  while (start > limit && /[^\s%]/.test(text[start - 1]!)) start -= 1;
  return start;
}

function collectRuns(
  text: string,
  runs: RegExp,
  layer: EncodingLayer,
  decode: (encoded: string) => string,
  budget: DecodeBudget,
  payloads: EncodedPayload[],
): void {
  for (const match of text.matchAll(runs)) {
    if (budget.decodes <= 0 || budget.chars <= 0) return;
    const encoded = match[0].slice(0, budget.chars * 10);
    const decoded = spend(budget, () => decode(encoded));
    if (decoded !== null)
      payloads.push({ layer, start: match.index, end: match.index + match[0].length, decoded });
  }
}

function codePointText(value: number): string {
  return value > 0 && value <= 0x10ffff && (value < 0xd800 || value > 0xdfff)
    ? String.fromCodePoint(value)
    : '';
}

// Numeric references in decimal or hex, and the named ones that matter for hiding ASCII.
// An unknown name is left as written.
export function decodeHtmlEntities(encoded: string): string {
  return encoded.replace(/&(?:#(x?)([0-9a-fA-F]{1,6})|([a-zA-Z]{2,8}));/g, (whole, hex, digits, name) => {
    if (name !== undefined) return NAMED_ENTITIES[String(name).toLowerCase()] ?? whole;
    return codePointText(Number.parseInt(String(digits), hex ? 16 : 10));
  });
}

// JavaScript, JSON and Python style escapes. Surrogate pairs written as two \u escapes
// are joined by decoding the UTF-16 units together.
export function decodeUnicodeEscapes(encoded: string): string {
  const units = encoded.replace(/\\u\{([0-9a-fA-F]{1,6})\}/g, (_, hex) =>
    codePointText(Number.parseInt(String(hex), 16)),
  );
  return units
    .replace(/\\x([0-9a-fA-F]{2})/g, (_, hex) => String.fromCharCode(Number.parseInt(String(hex), 16)))
    .replace(/(?:\\u[0-9a-fA-F]{4})+/g, (run) =>
      String.fromCharCode(
        ...run
          .split('\\u')
          .slice(1)
          .map((hex) => Number.parseInt(hex, 16)),
      ).toWellFormed(),
    );
}

// Lenient on purpose: decodeURIComponent throws on one malformed escape, which would let
// an attacker hide a payload behind a stray '%'. Consecutive escapes are decoded together
// because one character can take several UTF-8 bytes.
export function percentDecode(encoded: string): string {
  const utf8 = new TextDecoder('utf-8');
  return encoded
    .replace(/\+/g, ' ')
    .replace(/(?:%[0-9a-fA-F]{2})+/g, (escapes) =>
      utf8.decode(Buffer.from(escapes.replace(/%/g, ''), 'hex')),
    );
}

// Charges one attempt, decodes, and charges the characters only when the result is text.
function spend(budget: DecodeBudget, decode: () => Uint8Array | string): string | null {
  budget.decodes -= 1;
  const raw = decode();
  const text = typeof raw === 'string' ? raw : utf8Text(raw);
  if (text === null || !isMostlyPrintable(text)) return null;
  const kept = text.slice(0, Math.max(0, budget.chars));
  budget.chars -= kept.length;
  return kept;
}

// Strict UTF-8, except that an incomplete character at the very end is dropped rather
// than failing the whole payload: a run cut to the budget can end mid-character.
function utf8Text(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder('utf-8', { fatal: true }).decode(bytes, { stream: true });
  } catch {
    return null;
  }
}

function isMostlyPrintable(text: string): boolean {
  if (text.length < MIN_DECODED_LENGTH) return false;
  let printable = 0;
  for (let i = 0; i < text.length; i++) {
    const code = text.charCodeAt(i);
    const control =
      (code < 0x20 && code !== 0x09 && code !== 0x0a && code !== 0x0d) || (code >= 0x7f && code <= 0x9f);
    if (!control && code !== 0xfffd) printable += 1;
  }
  return printable / text.length >= MIN_PRINTABLE_RATIO;
}
