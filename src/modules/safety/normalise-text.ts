// Folds text into the form the injection patterns are written against, and remembers where
// every folded character came from so a match can be reported against the original string.
//
// The fold, per code point:
//   1. NFKD, drop non-spacing marks, recompose (NFC). Without marks this is exactly NFKC;
//      dropping the marks as well stops "i\u0301gnore" from dodging the word "ignore".
//      Working per code point rather than per string is what keeps offsets mappable. It
//      differs from whole-string NFKC only where composition joins code points: the
//      marks, which are dropped anyway, and a few script-specific pairs (Hangul jamo,
//      some Indic vowel signs) that no English pattern reads.
//   2. Lower-case.
//   3. Fold a short list of look-alike letters (Cyrillic and Greek) and typographic quotes
//      and dashes to ASCII, so "іgnore" (Cyrillic i) and curly-quoted JSON still match.
// Invisible format characters and control characters are dropped (hidden-characters.ts
// reports the invisible ones), and every run of whitespace becomes one ASCII space.
//
// Most text is printable ASCII, where the fold is just lower-casing. Those stretches are
// found with one regex and copied with native string operations, and map back character
// for character. Everything else is folded in a tight loop over typed arrays that records
// the original range of each folded unit.

export interface NormalisedText {
  text: string;
  // Pieces in folded order. A plain piece maps character for character; a piece with a
  // table gives each folded unit's original [start, end); a space piece covers the whole
  // whitespace run it replaced.
  pieces: FoldedPiece[];
}

export interface FoldedPiece {
  foldedStart: number;
  length: number;
  originalStart: number;
  // A collapsed whitespace run: one folded space for original[originalStart, originalEnd).
  originalEnd?: number;
  table?: { starts: Int32Array; ends: Int32Array };
}

// Pairs of equally long strings: the character at position i of the first folds to the
// character at position i of the second. Upper-case look-alikes are covered because the
// fold runs after lower-casing.
const LOOKALIKE_FOLDS: ReadonlyArray<readonly [string, string]> = [
  // Cyrillic and IPA letters that render like Latin ones.
  ['авеёкмнорстухіїјѕԁԛԝһӏɡɑı', 'abeekmhopctyxiijsdqwhlgai'],
  // Greek.
  ['αεικνορτυχ', 'aeikvoptux'],
  // Typographic quotes and dashes, so quoted JSON and hyphenated words look the same everywhere.
  ['\u2018\u2019\u201a\u201b\u2032', "'''''"],
  ['\u201c\u201d\u201e\u201f\u2033', '"""""'],
  ['\u2010\u2011\u2012\u2013\u2014\u2015\u2212', '-------'],
];

// Format characters that render as nothing. They are removed before matching so they
// cannot split a keyword; whether their presence is itself suspicious is decided by
// hidden-characters.ts, not here. INVISIBLE_RUN is the same set as a regex, for skipping
// long runs natively; a test keeps the two in step. (The lint rule below guards against
// joiners that silently combine inside a class; here they are the target.)
export const INVISIBLE_RUN =
  // eslint-disable-next-line no-misleading-character-class
  /[\u00ad\u034f\u061c\u115f\u1160\u17b4\u17b5\u180b-\u180f\u200b-\u200f\u202a-\u202e\u2060-\u206f\u3164\ufe00-\ufe0f\ufeff\uffa0\u{1bca0}-\u{1bca3}\u{e0000}-\u{e007f}\u{e0100}-\u{e01ef}]+/uy;

export function isInvisibleCodePoint(cp: number): boolean {
  return (
    cp === 0x00ad ||
    cp === 0x034f ||
    cp === 0x061c ||
    cp === 0x115f ||
    cp === 0x1160 ||
    cp === 0x17b4 ||
    cp === 0x17b5 ||
    (cp >= 0x180b && cp <= 0x180f) ||
    (cp >= 0x200b && cp <= 0x200f) ||
    (cp >= 0x202a && cp <= 0x202e) ||
    (cp >= 0x2060 && cp <= 0x206f) ||
    cp === 0x3164 ||
    (cp >= 0xfe00 && cp <= 0xfe0f) ||
    cp === 0xfeff ||
    cp === 0xffa0 ||
    (cp >= 0x1bca0 && cp <= 0x1bca3) ||
    (cp >= 0xe0000 && cp <= 0xe007f) ||
    (cp >= 0xe0100 && cp <= 0xe01ef)
  );
}

export function isWhitespaceCode(code: number): boolean {
  return (
    code === 0x20 ||
    (code >= 0x09 && code <= 0x0d) ||
    code === 0x85 ||
    code === 0xa0 ||
    code === 0x1680 ||
    (code >= 0x2000 && code <= 0x200a) ||
    code === 0x2028 ||
    code === 0x2029 ||
    code === 0x202f ||
    code === 0x205f ||
    code === 0x3000
  );
}

// Everything that is not plain ASCII text, in two kinds:
//   - runs of two or more ASCII whitespace characters, which become one space (a single
//     tab or newline stays in the plain text and turns into a space there, one for one);
//   - non-ASCII and control characters, with short ASCII gaps between them absorbed so
//     "i\u0301i\u0301..." is one stretch rather than a million, folded code point by
//     code point.
const IRREGULAR =
  /[\t\n\v\f\r ]{2,}|[^\t\n\v\f\r\x20-\x7e](?:[\t\n\v\f\r\x20-\x7e]{0,16}[^\t\n\v\f\r\x20-\x7e])*/g;
const ASCII_WHITESPACE = /^[\t\n\v\f\r ]/;
const LONE_WHITESPACE = /[\t\n\v\f\r]/g;
const NON_SPACING_MARKS = /\p{Mn}/gu;
const OWN_ARRAYS_ABOVE = 4096;

export function normaliseText(input: string): NormalisedText {
  const out = createFoldedBuilder();
  const tools: StretchTools = {
    scratch: createScratch(),
    cache: createFoldCache(),
    // A sticky copy per call: its lastIndex is this call's scan position.
    invisibleRun: new RegExp(INVISIBLE_RUN),
  };
  let cursor = 0;
  for (const match of input.matchAll(IRREGULAR)) {
    const end = match.index + match[0].length;
    out.appendPlain(foldPlain(input.slice(cursor, match.index)), cursor);
    if (ASCII_WHITESPACE.test(match[0])) {
      out.appendSpace(match.index, end);
    } else {
      out.appendFolded(foldStretch(input, match.index, end, out.endsWithSpace(), tools));
    }
    cursor = end;
  }
  out.appendPlain(foldPlain(input.slice(cursor)), cursor);
  return out.finish();
}

function foldPlain(text: string): string {
  return text.toLowerCase().replace(LONE_WHITESPACE, ' ');
}

// What the slow path reuses across the stretches of one call.
interface StretchTools {
  scratch: Scratch;
  cache: FoldCache;
  invisibleRun: RegExp;
}

interface FoldedStretch {
  text: string;
  starts: Int32Array;
  ends: Int32Array;
}

// Folds input[start, end) code point by code point. This loop is the slow path for
// non-ASCII text, so it keeps its arrays in locals and works in numbers: the cache
// answers with a code unit or a marker, and only folds of several characters touch a
// string.
function foldStretch(
  input: string,
  start: number,
  end: number,
  afterSpace: boolean,
  tools: StretchTools,
): FoldedStretch {
  const { cache, invisibleRun } = tools;
  // Long stretches get arrays of their own, handed out without copying; short ones share
  // the call's scratch arrays and copy out only what they used.
  const own = end - start > OWN_ARRAYS_ABOVE;
  const scratch = own ? createScratch(end - start + 64) : tools.scratch;
  if (scratch.codes.length < end - start + 64) growScratch(scratch, end - start + 64);
  // Plain locals rather than a push() closure: V8 keeps them in registers.
  let { codes, starts, ends } = scratch;
  let length = 0;
  let lastWasSpace = afterSpace;
  let i = start;
  while (i < end) {
    const unit = input.charCodeAt(i);
    const cp = unit >= 0xd800 && unit <= 0xdbff ? input.codePointAt(i)! : unit;
    const width = cp > 0xffff ? 2 : 1;
    // One code point folds to at most a few dozen units; growing by a generous margin
    // here means the writes below never need a check.
    if (length + 64 > codes.length) ({ codes, starts, ends } = growScratch(scratch));
    const fold = cp > 0x20 && cp < 0x7f ? (cp >= 0x41 && cp <= 0x5a ? cp + 0x20 : cp) : lookupFold(cache, cp);
    if (fold >= 0) {
      codes[length] = fold;
      starts[length] = i;
      ends[length] = i + width;
      length += 1;
      lastWasSpace = false;
    } else if (fold === FOLD_SPACE) {
      if (!lastWasSpace) {
        codes[length] = 0x20;
        starts[length] = i;
        ends[length] = i + width;
        length += 1;
      } else if (length > 0) {
        ends[length - 1] = i + width;
      }
      lastWasSpace = true;
    } else if (fold === FOLD_DROP) {
      i += width;
      // A wall of invisible characters is an attack shape: skip the rest of it natively.
      if (i < end && isInvisibleCodePoint(input.codePointAt(i)!)) {
        invisibleRun.lastIndex = i;
        if (invisibleRun.test(input)) i = Math.min(invisibleRun.lastIndex, end);
      }
      continue;
    } else {
      const folded = cache.all.get(cp)!;
      for (let k = 0; k < folded.length; k++) {
        const code = folded.charCodeAt(k);
        if (code === 0x20 && lastWasSpace) continue;
        codes[length] = code;
        starts[length] = i;
        ends[length] = i + width;
        length += 1;
        lastWasSpace = code === 0x20;
      }
    }
    i += width;
  }
  const units = codes.subarray(0, length);
  return {
    text: Buffer.from(units.buffer, units.byteOffset, units.byteLength).toString('utf16le'),
    starts: own ? starts.subarray(0, length) : starts.slice(0, length),
    ends: own ? ends.subarray(0, length) : ends.slice(0, length),
  };
}

// Per-call memo of folds. Text repeats a small alphabet, so a 256-slot direct-mapped
// table answers nearly every lookup with a number: the folded code unit when the fold is
// one character, or one of the markers below. The map holds every fold as a string.
interface FoldCache {
  keys: Int32Array;
  folds: Int32Array;
  all: Map<number, string>;
}

const FOLD_SPACE = -1;
const FOLD_DROP = -2;
const FOLD_SEVERAL = -3;

function createFoldCache(): FoldCache {
  return { keys: new Int32Array(256).fill(-1), folds: new Int32Array(256), all: new Map() };
}

function lookupFold(cache: FoldCache, cp: number): number {
  const slot = cp & 0xff;
  if (cache.keys[slot] === cp) return cache.folds[slot]!;
  let folded = cache.all.get(cp);
  if (folded === undefined) {
    folded = foldCodePoint(cp);
    cache.all.set(cp, folded);
  }
  const fold =
    folded === ' '
      ? FOLD_SPACE
      : folded === ''
        ? FOLD_DROP
        : folded.length === 1
          ? folded.charCodeAt(0)
          : FOLD_SEVERAL;
  cache.keys[slot] = cp;
  cache.folds[slot] = fold;
  return fold;
}

// The fold of one code point: ' ' for whitespace, '' for what is dropped, otherwise
// NFKD without non-spacing marks, recomposed, lower-cased and look-alikes folded.
function foldCodePoint(cp: number): string {
  if (isWhitespaceCode(cp)) return ' ';
  // Control characters render as nothing, so they go the way of the invisible ones.
  if (isInvisibleCodePoint(cp) || cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) return '';
  const stripped = String.fromCodePoint(cp)
    .normalize('NFKD')
    .replace(NON_SPACING_MARKS, '')
    .normalize('NFC')
    .toLowerCase();
  let folded = '';
  for (const ch of stripped) folded += foldLookalike(ch);
  return folded.replace(/\s+/g, ' ');
}

function foldLookalike(ch: string): string {
  for (const [from, to] of LOOKALIKE_FOLDS) {
    const index = from.indexOf(ch);
    if (index >= 0) return to[index]!;
  }
  return ch;
}

// Reusable growable arrays for one normaliseText call.
interface Scratch {
  codes: Uint16Array;
  starts: Int32Array;
  ends: Int32Array;
}

function createScratch(capacity = 256): Scratch {
  return {
    codes: new Uint16Array(capacity),
    starts: new Int32Array(capacity),
    ends: new Int32Array(capacity),
  };
}

function growScratch(scratch: Scratch, atLeast = 0): Scratch {
  const codes = new Uint16Array(Math.max(scratch.codes.length * 2, atLeast));
  codes.set(scratch.codes);
  const starts = new Int32Array(codes.length);
  starts.set(scratch.starts);
  const ends = new Int32Array(codes.length);
  ends.set(scratch.ends);
  return Object.assign(scratch, { codes, starts, ends });
}

interface FoldedBuilder {
  // A folded plain ASCII stretch that starts at original[originalStart].
  appendPlain(text: string, originalStart: number): void;
  appendFolded(stretch: FoldedStretch): void;
  // A whitespace run original[start, end): one space, unless a space was just written.
  appendSpace(start: number, end: number): void;
  endsWithSpace(): boolean;
  finish(): NormalisedText;
}

function createFoldedBuilder(): FoldedBuilder {
  const parts: string[] = [];
  const pieces: FoldedPiece[] = [];
  let length = 0;
  let lastCode = -1;

  const add = (text: string, piece: Omit<FoldedPiece, 'foldedStart' | 'length'>): void => {
    if (text.length === 0) return;
    parts.push(text);
    pieces.push({ foldedStart: length, length: text.length, ...piece });
    length += text.length;
    lastCode = text.charCodeAt(text.length - 1);
  };

  return {
    appendPlain(text, originalStart) {
      // A plain stretch can start with the space after a dropped invisible character;
      // writing it would leave two spaces in a row.
      if (lastCode === 0x20 && text.charCodeAt(0) === 0x20) {
        add(text.slice(1), { originalStart: originalStart + 1 });
      } else {
        add(text, { originalStart });
      }
    },
    appendFolded(stretch) {
      add(stretch.text, {
        originalStart: stretch.starts[0] ?? 0,
        table: { starts: stretch.starts, ends: stretch.ends },
      });
    },
    appendSpace(start, end) {
      if (lastCode !== 0x20) {
        add(' ', { originalStart: start, originalEnd: end });
      }
    },
    endsWithSpace: () => lastCode === 0x20,
    finish: () => ({ text: parts.join(''), pieces }),
  };
}

// Maps a [start, end) span of the folded text back to the original string.
export function originSpan(
  normalised: NormalisedText,
  start: number,
  end: number,
): { start: number; end: number } {
  if (normalised.pieces.length === 0) return { start: 0, end: 0 };
  const first = originOf(normalised, start);
  const last = originOf(normalised, Math.max(start, end - 1));
  return { start: first.start, end: last.end };
}

// The original range that folded unit `index` came from.
function originOf(normalised: NormalisedText, index: number): { start: number; end: number } {
  const { pieces } = normalised;
  let low = 0;
  let high = pieces.length - 1;
  while (low < high) {
    const mid = (low + high + 1) >> 1;
    if (pieces[mid]!.foldedStart <= index) low = mid;
    else high = mid - 1;
  }
  const piece = pieces[low]!;
  const offset = Math.min(index - piece.foldedStart, piece.length - 1);
  if (piece.table) return { start: piece.table.starts[offset]!, end: piece.table.ends[offset]! };
  if (piece.originalEnd !== undefined) return { start: piece.originalStart, end: piece.originalEnd };
  return { start: piece.originalStart + offset, end: piece.originalStart + offset + 1 };
}
