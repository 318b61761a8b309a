// Turns raw text into the token stream the classifier scores. Every step is one
// left-to-right pass: a character scanner (a table for ASCII, a single-character regular
// expression for the rest) and regular expressions made of one character class, so the cost
// is linear in the input however hostile it is. There is no nested quantifier and no
// lookaround for a backtracking engine to explode on.
//
// Evasions this undoes: Unicode compatibility forms (fullwidth, ligatures, styled maths
// letters), diacritics and zero-width characters, a few Cyrillic and Greek look-alikes,
// leetspeak (k1ll, h4te, $lut), stretched letters (killlll) and spaced-out words (k i l l,
// k.i.l.l). It does not undo masking (f*ck), word splitting (mur der), phonetic spelling or
// paraphrase.

export interface TokenStream {
  // Leet-folded, lowercased, runs of three or more equal letters squashed to two.
  readonly key2: string[];
  // The same with every run squashed to one letter: catches "kiiiilll" and "stabbing".
  readonly key1: string[];
  // The other reading of an ambiguous leet digit ("1" and "|" as "l" instead of "i"); "" when none.
  readonly alt: string[];
  // Lowercased but not leet-folded, so numbers stay numbers (ages, amounts).
  readonly raw: string[];
  readonly sentence: Int32Array;
  // 1 when the token sits between quotation marks that open and close on the same line.
  readonly quoted: Uint8Array;
  readonly sentenceCount: number;
  readonly truncated: boolean;
}

export interface TokenizeOptions {
  // Longest input examined, in code points; the rest is ignored.
  maxInputChars: number;
}

// Compatibility decomposition can turn one code point into eighteen (U+FDFA). Output is held
// to four UTF-16 units per input unit, enough for accented Latin and Hangul (two or three),
// by blanking the few code points that expand further; cutting the normalised text short
// instead would let a run of such characters push the words after it out of view.
const MAX_EXPANSION = 4;
const NORMALISE_CHUNK = 8192;

const MARKS_AND_FORMAT = /[\p{M}\p{Cf}]+/gu;

// Maps, not object literals, for every table indexed by user text: "constructor" or
// "__proto__" in the input must not reach Object.prototype.
const mapOf = <V>(table: Record<string, V>): ReadonlyMap<string, V> => new Map(Object.entries(table));

// Letters that render like Latin ones and that NFKC leaves alone; the quotes and
// apostrophes are folded so contractions survive typographic punctuation.
const CONFUSABLES: ReadonlyMap<string, string> = mapOf({
  а: 'a',
  в: 'b',
  е: 'e',
  к: 'k',
  м: 'm',
  н: 'h',
  о: 'o',
  р: 'p',
  с: 'c',
  т: 't',
  у: 'y',
  х: 'x',
  і: 'i',
  ј: 'j',
  ѕ: 's',
  ԁ: 'd',
  ɡ: 'g',
  α: 'a',
  β: 'b',
  ε: 'e',
  ι: 'i',
  κ: 'k',
  ν: 'v',
  ο: 'o',
  ρ: 'p',
  τ: 't',
  υ: 'u',
  χ: 'x',
  '\u2018': "'",
  '\u2019': "'",
  '\u02bc': "'",
  '`': "'",
  '\u00b4': "'",
});
const CONFUSABLE_RE = new RegExp(`[${[...CONFUSABLES.keys()].join('')}]`, 'gu');

// Character classes for the scanner: word characters (letters, digits and the symbols
// leetspeak uses), quotation marks, and sentence punctuation. ASCII is a table look-up;
// anything else asks one sticky single-character regular expression.
const CHAR_OTHER = 0;
const CHAR_WORD = 1;
const CHAR_QUOTE = 2;
const CHAR_BREAK = 3;
const ASCII_CLASS: Uint8Array = (() => {
  const table = new Uint8Array(128);
  for (let code = 0; code < 128; code += 1) {
    const ch = String.fromCharCode(code);
    if (/[a-zA-Z0-9@$'|!*]/.test(ch)) table[code] = CHAR_WORD;
    else if (ch === '"') table[code] = CHAR_QUOTE;
    else if (ch === '.' || ch === '?' || ch === '\n' || ch === '\r') table[code] = CHAR_BREAK;
  }
  return table;
})();
const NON_ASCII_WORD = /[\p{L}\p{N}]/uy;
const NON_ASCII_QUOTES = new Set([0x201c, 0x201d, 0x201e, 0xab, 0xbb]);
const HAS_LETTER = /\p{L}/u;
const SENTENCE_END_FOLLOWERS = new Set([' ', '\t', '\n', '\r', '"', '\u201d', '\u00bb', ')']);
const OPENING_QUOTES = new Set(['"', '\u201c', '\u201e', '\u00ab']);
const LEET_CHARS = /[013457@$!|]/;

const LEET_TABLE: Readonly<Record<string, string>> = {
  '0': 'o',
  '1': 'i',
  '3': 'e',
  '4': 'a',
  '5': 's',
  '7': 't',
  '@': 'a',
  $: 's',
  '!': 'i',
  '|': 'i',
};
const LEET: ReadonlyMap<string, string> = mapOf(LEET_TABLE);
const LEET_ALT: ReadonlyMap<string, string> = mapOf({ ...LEET_TABLE, '1': 'l', '|': 'l' });

const EDGE_PUNCTUATION = new Set(["'", '!', '|', '*']);

// Contractions written without an apostrophe, the way people type them.
const BARE_CONTRACTIONS: ReadonlyMap<string, readonly string[]> = mapOf({
  dont: ['do', 'not'],
  doesnt: ['does', 'not'],
  didnt: ['did', 'not'],
  cant: ['can', 'not'],
  cannot: ['can', 'not'],
  wont: ['will', 'not'],
  isnt: ['is', 'not'],
  arent: ['are', 'not'],
  wasnt: ['was', 'not'],
  werent: ['were', 'not'],
  havent: ['have', 'not'],
  hasnt: ['has', 'not'],
  hadnt: ['had', 'not'],
  shouldnt: ['should', 'not'],
  wouldnt: ['would', 'not'],
  couldnt: ['could', 'not'],
  mustnt: ['must', 'not'],
  aint: ['is', 'not'],
  im: ['i', 'am'],
  ive: ['i', 'have'],
  youre: ['you', 'are'],
  youll: ['you', 'will'],
  youve: ['you', 'have'],
  theyre: ['they', 'are'],
  theyll: ['they', 'will'],
  whats: ['what', 'is'],
  gonna: ['going', 'to'],
  gona: ['going', 'to'],
  wanna: ['want', 'to'],
  gotta: ['got', 'to'],
  imma: ['i', 'am', 'going', 'to'],
  ima: ['i', 'am', 'going', 'to'],
  u: ['you'],
  ya: ['you'],
  yu: ['you'],
  r: ['are'],
  ur: ['your'],
  urself: ['yourself'],
  yourselves: ['yourself'],
  yall: ['you', 'all'],
  ppl: ['people'],
  cuz: ['because'],
  bc: ['because'],
  h8: ['hate'],
  h8ers: ['haters'],
  ded: ['dead'],
});

const APOSTROPHE_SUFFIXES: ReadonlyMap<string, string | null> = mapOf({
  ll: 'will',
  m: 'am',
  re: 'are',
  ve: 'have',
  d: 'would',
  s: null,
});

const NEGATIVE_BASES: ReadonlyMap<string, string> = mapOf({ ca: 'can', wo: 'will', sha: 'shall', ai: 'is' });

export const squash = (word: string, maxRun: number): string => {
  let out = '';
  let copiedUpTo = 0;
  let run = 1;
  for (let i = 1; i < word.length; i += 1) {
    run = word.charCodeAt(i) === word.charCodeAt(i - 1) ? run + 1 : 1;
    if (run > maxRun) {
      out += word.slice(copiedUpTo, i);
      copiedUpTo = i + 1;
    }
  }
  return copiedUpTo === 0 ? word : out + word.slice(copiedUpTo);
};

const fold = (word: string, table: ReadonlyMap<string, string>): string => {
  let out = '';
  for (const ch of word) out += table.get(ch) ?? ch;
  return out;
};

// The canonical form the lexicon is keyed by; lexicon words pass through the same function.
export const wordKey = (word: string): string => squash(word, 2);

const truncateCodePoints = (text: string, max: number): { text: string; truncated: boolean } => {
  if (text.length <= max) return { text, truncated: false };
  let count = 0;
  let i = 0;
  while (i < text.length && count < max) {
    const code = text.charCodeAt(i);
    const isPair = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length;
    i += isPair ? 2 : 1;
    count += 1;
  }
  return { text: text.slice(0, i), truncated: i < text.length };
};

const decomposeEachCodePoint = (chunk: string): string => {
  let out = '';
  for (const ch of chunk) {
    const decomposed = ch.normalize('NFKD');
    out += decomposed.length > MAX_EXPANSION * ch.length ? ' ' : decomposed;
  }
  return out;
};

// Compatibility normalisation is NFKD rather than NFKC: the same folding of fullwidth,
// ligature and styled letters, but left decomposed so the diacritics can be dropped. It runs
// chunk by chunk; only a chunk that expands past MAX_EXPANSION is redone code point by code
// point, so ordinary text pays for one normalize() call per chunk.
export const normaliseText = (input: string, maxInputChars: number): { text: string; truncated: boolean } => {
  const { text: source, truncated } = truncateCodePoints(input, maxInputChars);
  const pieces: string[] = [];
  for (let offset = 0; offset < source.length;) {
    let end = Math.min(source.length, offset + NORMALISE_CHUNK);
    const last = source.charCodeAt(end - 1);
    if (end < source.length && last >= 0xd800 && last <= 0xdbff) end += 1;
    const chunk = source.slice(offset, end);
    const decomposed = chunk.normalize('NFKD');
    pieces.push(
      decomposed.length > MAX_EXPANSION * chunk.length ? decomposeEachCodePoint(chunk) : decomposed,
    );
    offset = end;
  }
  const text = pieces
    .join('')
    .replace(MARKS_AND_FORMAT, '')
    .toLowerCase()
    .replace(CONFUSABLE_RE, (ch) => CONFUSABLES.get(ch) ?? ch);
  return { text, truncated };
};

const isEdge = (token: string, index: number): boolean => EDGE_PUNCTUATION.has(token[index] as string);

// The class of the character at i, and its width in UTF-16 units, packed as class | width << 2.
const classAt = (text: string, i: number): number => {
  const code = text.charCodeAt(i);
  if (code < 128) return (ASCII_CLASS[code] as number) | (1 << 2);
  const width = code >= 0xd800 && code <= 0xdbff && i + 1 < text.length ? 2 : 1;
  if (NON_ASCII_QUOTES.has(code)) return CHAR_QUOTE | (width << 2);
  NON_ASCII_WORD.lastIndex = i;
  return (NON_ASCII_WORD.test(text) ? CHAR_WORD : CHAR_OTHER) | (width << 2);
};

// "i'll" -> i will, "don't" -> do not, "can't" -> can not, "john's" -> john.
const expandApostrophes = (word: string): string[] => {
  const parts = word.split("'").filter((part) => part.length > 0);
  if (parts.length !== 2) return [parts.join('')];
  const [head, tail] = parts as [string, string];
  if (tail === 't' && head.endsWith('n')) {
    const base = head.slice(0, -1);
    return [NEGATIVE_BASES.get(base) ?? base, 'not'];
  }
  const expansion = APOSTROPHE_SUFFIXES.get(tail);
  if (expansion !== undefined) return expansion === null ? [head] : [head, expansion];
  return [head + tail];
};

interface AnalysedToken {
  key2: string[];
  key1: string[];
  alt: string;
}

const analyseToken = (surface: string): AnalysedToken => {
  const hasLetter = HAS_LETTER.test(surface);
  const folded = hasLetter && LEET_CHARS.test(surface) ? fold(surface, LEET) : surface;
  const words = folded.includes("'")
    ? expandApostrophes(folded)
    : (BARE_CONTRACTIONS.get(wordKey(folded)) ?? [folded]);
  const key2: string[] = [];
  const key1: string[] = [];
  for (const word of words) {
    const k2 = wordKey(word);
    if (k2.length === 0) continue;
    key2.push(k2);
    key1.push(squash(k2, 1));
  }
  let alt = '';
  if (hasLetter && key2.length === 1 && (surface.includes('1') || surface.includes('|'))) {
    const other = wordKey(fold(surface, LEET_ALT).replaceAll("'", ''));
    if (other !== key2[0]) alt = other;
  }
  return { key2, key1, alt };
};

export const tokenize = (input: string, options: TokenizeOptions): TokenStream => {
  const { text, truncated } = normaliseText(input, options.maxInputChars);
  const key2: string[] = [];
  const key1: string[] = [];
  const alt: string[] = [];
  const raw: string[] = [];
  const sentences: number[] = [];
  const quotedFlags: number[] = [];
  let sentence = 0;
  let quoteOpen = false;
  let quoteStart = 0;

  const breakSentence = (): void => {
    if (sentences.length > 0 && sentences[sentences.length - 1] === sentence) sentence += 1;
  };

  // A quotation still open at the end of a line was never closed: unmark it, so a stray
  // quotation mark cannot dampen everything after it.
  const endLine = (): void => {
    if (quoteOpen) {
      for (let i = quoteStart; i < quotedFlags.length; i += 1) quotedFlags[i] = 0;
      quoteOpen = false;
    }
  };

  // Text repeats itself (and hostile text repeats itself a lot), so each distinct surface
  // form is analysed once per call.
  const cache = new Map<string, AnalysedToken>();

  const emit = (surface: string): void => {
    let analysed = cache.get(surface);
    if (analysed === undefined) {
      analysed = analyseToken(surface);
      cache.set(surface, analysed);
    }
    const quoted = quoteOpen ? 1 : 0;
    for (let w = 0; w < analysed.key2.length; w += 1) {
      key2.push(analysed.key2[w] as string);
      key1.push(analysed.key1[w] as string);
      alt.push(w === 0 ? analysed.alt : '');
      raw.push(surface);
      sentences.push(sentence);
      quotedFlags.push(quoted);
    }
  };

  // Single characters separated by at most two characters ("k i l l", "k.i.l.l") are one word.
  let pending: string[] = [];
  let pendingEnd = -1;
  const flushPending = (): void => {
    if (pending.length >= 3) emit(pending.join(''));
    else for (const ch of pending) emit(ch);
    pending = [];
  };

  let position = 0;
  while (position < text.length) {
    const start = position;
    const packed = classAt(text, position);
    const kind = packed & 3;
    position += packed >> 2;
    if (kind === CHAR_OTHER) continue;
    // Extend a word or a punctuation run while the class stays the same.
    if (kind === CHAR_WORD || kind === CHAR_BREAK) {
      while (position < text.length) {
        const next = classAt(text, position);
        if ((next & 3) !== kind) break;
        position += next >> 2;
      }
    }
    const token = text.slice(start, position);
    const end = position;
    const first = token[0] as string;
    if (kind === CHAR_BREAK) {
      // A full stop inside a word ("example.com", "k.i.l.l") separates but does not end a sentence.
      const hardBreak = token.includes('?') || token.includes('\n') || token.includes('\r');
      if (!hardBreak && !SENTENCE_END_FOLLOWERS.has(text[end] ?? ' ')) continue;
      flushPending();
      breakSentence();
      if (token.includes('\n') || token.includes('\r')) endLine();
      continue;
    }
    if (kind === CHAR_QUOTE) {
      flushPending();
      if (first === '"' ? !quoteOpen : OPENING_QUOTES.has(first)) {
        if (!quoteOpen) {
          quoteOpen = true;
          quoteStart = quotedFlags.length;
        }
      } else {
        quoteOpen = false;
      }
      continue;
    }
    let coreStart = 0;
    let coreEnd = token.length;
    while (coreStart < coreEnd && isEdge(token, coreStart)) coreStart += 1;
    while (coreEnd > coreStart && isEdge(token, coreEnd - 1)) coreEnd -= 1;
    const core = coreStart === 0 && coreEnd === token.length ? token : token.slice(coreStart, coreEnd);
    const leadingBang = coreStart > 0 && token.slice(0, coreStart).includes('!');
    const trailingBang = coreEnd < token.length && token.slice(coreEnd).includes('!');
    if (leadingBang) {
      flushPending();
      breakSentence();
    }
    if (core.length > 0) {
      const single = core.length === 1 || (core.length === 2 && (core.codePointAt(0) ?? 0) > 0xffff);
      if (single && (pending.length === 0 || start - pendingEnd <= 2)) {
        pending.push(core);
        pendingEnd = end;
      } else {
        flushPending();
        if (single) {
          pending.push(core);
          pendingEnd = end;
        } else {
          emit(core);
        }
      }
    }
    if (trailingBang) {
      flushPending();
      breakSentence();
    }
  }
  flushPending();
  endLine();

  return {
    key2,
    key1,
    alt,
    raw,
    sentence: Int32Array.from(sentences),
    quoted: Uint8Array.from(quotedFlags),
    sentenceCount: sentences.length === 0 ? 0 : (sentences[sentences.length - 1] as number) + 1,
    truncated,
  };
};
