// Finds invisible characters that have no business in text an assistant reads, and decodes
// the two kinds that can carry a whole hidden message:
//   - Unicode tag characters (U+E0020..U+E007E mirror printable ASCII), the classic
//     "ASCII smuggling" carrier;
//   - runs of variation selectors, which can encode one byte each (U+FE00..U+FE0F for
//     0..15, U+E0100..U+E01EF for 16..255).
//
// Presence is what is reported. To keep ordinary text quiet, three legitimate uses are
// exempt: a byte-order mark at the very start, a zero-width joiner inside an emoji
// sequence, and a zero-width (non-)joiner between letters of scripts that need it
// (Persian, Hindi and others). A single variation selector (the emoji-presentation one
// after a heart, say) is normal; two or more in a row are not.

export type HiddenKind =
  'tag' | 'zero_width' | 'bidi_control' | 'invisible_operator' | 'variation_selector_run';

export interface HiddenRun {
  kind: HiddenKind;
  start: number;
  end: number;
}

const ZERO_WIDTH_JOINER = 0x200d;
const ZERO_WIDTH_NON_JOINER = 0x200c;
const BYTE_ORDER_MARK = 0xfeff;

const EMOJI_NEIGHBOUR = /^[\p{Extended_Pictographic}\p{Emoji_Modifier}\p{Regional_Indicator}\uFE0F]$/u;
const JOINING_SCRIPT_NEIGHBOUR = /^[\p{L}\p{M}]$/u;

// One alternative per reported kind, each matching a run of that kind, so a wall of
// identical invisible characters costs one match rather than one step per character.
// Variation selectors only count in runs of two or more.
const RUNS: ReadonlyArray<readonly [HiddenKind, RegExp]> = [
  ['zero_width', /[\u200b-\u200d\u2060\ufeff]+/y],
  ['bidi_control', /[\u202a-\u202e\u2066-\u2069]+/y],
  ['invisible_operator', /[\u2061-\u2064\u206a-\u206f]+/y],
  ['tag', /[\u{e0000}-\u{e007f}]+/uy],
  ['variation_selector_run', /[\ufe00-\ufe0f\u{e0100}-\u{e01ef}]{2,}/uy],
];
// The lint rule below guards against joiners and selectors that silently combine with a
// neighbour inside a character class; here they are exactly what is being looked for.
const CANDIDATES =
  // eslint-disable-next-line no-misleading-character-class
  /[\u200b-\u200d\u2060-\u206f\u202a-\u202e\ufe00-\ufe0f\ufeff\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]+/gu;

export function findHiddenCharacters(text: string, maxRuns = Number.POSITIVE_INFINITY): HiddenRun[] {
  const runs: HiddenRun[] = [];
  // Sticky copies, made per call: their lastIndex is the scan position.
  const kinds = RUNS.map(([kind, regex]) => [kind, new RegExp(regex)] as const);
  for (const match of text.matchAll(CANDIDATES)) {
    const end = match.index + match[0].length;
    let i = match.index;
    while (i < end && runs.length < maxRuns) {
      const next = matchRunAt(text, i, kinds);
      if (!next) {
        i += text.codePointAt(i)! > 0xffff ? 2 : 1;
        continue;
      }
      const single = next.end - i === 1;
      // Joiners and the byte-order mark are legitimate one at a time in some places.
      if (!(single && isExempt(text, i, text.charCodeAt(i)))) appendRun(runs, next.kind, i, next.end);
      i = next.end;
    }
    if (runs.length >= maxRuns) break;
  }
  return runs;
}

function matchRunAt(
  text: string,
  index: number,
  kinds: ReadonlyArray<readonly [HiddenKind, RegExp]>,
): { kind: HiddenKind; end: number } | null {
  for (const [kind, regex] of kinds) {
    regex.lastIndex = index;
    if (regex.test(text)) return { kind, end: regex.lastIndex };
  }
  return null;
}

// Adjacent characters of one kind make one run, so a 1 MiB wall of zero-width spaces is a
// single finding rather than a million.
function appendRun(runs: HiddenRun[], kind: HiddenKind, start: number, end: number): void {
  const last = runs[runs.length - 1];
  if (last && last.kind === kind && last.end === start) {
    last.end = end;
    return;
  }
  runs.push({ kind, start, end });
}

function isExempt(text: string, index: number, cp: number): boolean {
  if (cp === BYTE_ORDER_MARK) return index === 0;
  if (cp !== ZERO_WIDTH_JOINER && cp !== ZERO_WIDTH_NON_JOINER) return false;
  const before = codePointBefore(text, index);
  const after = index + 1 < text.length ? text.codePointAt(index + 1) : undefined;
  if (before === undefined || after === undefined) return false;
  const beforeChar = String.fromCodePoint(before);
  const afterChar = String.fromCodePoint(after);
  const emojiSequence = EMOJI_NEIGHBOUR.test(beforeChar) && EMOJI_NEIGHBOUR.test(afterChar);
  if (cp === ZERO_WIDTH_JOINER && emojiSequence) return true;
  // Latin text never needs a joiner; the scripts that do are all outside Latin blocks.
  return (
    before > 0x2ff &&
    after > 0x2ff &&
    JOINING_SCRIPT_NEIGHBOUR.test(beforeChar) &&
    JOINING_SCRIPT_NEIGHBOUR.test(afterChar)
  );
}

function codePointBefore(text: string, index: number): number | undefined {
  if (index === 0) return undefined;
  const low = text.charCodeAt(index - 1);
  if (low >= 0xdc00 && low <= 0xdfff && index >= 2) {
    const high = text.charCodeAt(index - 2);
    if (high >= 0xd800 && high <= 0xdbff) return text.codePointAt(index - 2);
  }
  return low;
}

// Tag characters U+E0020..U+E007E carry printable ASCII; the rest of the block (language
// tag, cancel tag) carries nothing readable and is skipped. Stops after maxChars.
export function decodeTagRun(
  text: string,
  start: number,
  end: number,
  maxChars = Number.POSITIVE_INFINITY,
): string {
  let decoded = '';
  for (let i = start; i < end && decoded.length < maxChars;) {
    const cp = text.codePointAt(i)!;
    if (cp >= 0xe0020 && cp <= 0xe007e) decoded += String.fromCharCode(cp - 0xe0000);
    i += cp > 0xffff ? 2 : 1;
  }
  return decoded;
}

// Each selector is one byte; the bytes are read as UTF-8. Returns null when they are not
// valid UTF-8, which means the run was not a message. Reads at most maxBytes selectors.
export function decodeVariationSelectorRun(
  text: string,
  start: number,
  end: number,
  maxBytes = Number.POSITIVE_INFINITY,
): string | null {
  const bytes: number[] = [];
  for (let i = start; i < end && bytes.length < maxBytes;) {
    const cp = text.codePointAt(i)!;
    bytes.push(cp <= 0xfe0f ? cp - 0xfe00 : cp - 0xe0100 + 16);
    i += cp > 0xffff ? 2 : 1;
  }
  try {
    // Streaming mode drops a character cut in half by maxBytes instead of failing.
    return new TextDecoder('utf-8', { fatal: true }).decode(Uint8Array.from(bytes), { stream: true });
  } catch {
    return null;
  }
}
