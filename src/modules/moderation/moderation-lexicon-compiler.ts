// Compiles moderation-lexicon.ts once, when a classifier is created, into structures that
// make scoring cheap: every word the lexicon mentions gets an integer id, phrases live in
// tries keyed by those ids, and each pattern slot has a lookup table of the words that can
// start it. Scoring then costs array reads per token instead of string hashing per
// pattern, which is what keeps hostile input (a megabyte of "i will kill you") fast.

import {
  AGE_PREFIXES,
  AGE_UNITS,
  CATEGORY_DAMPENERS,
  CUE_FACTORS,
  CUES,
  DETERMINERS,
  LEXICON_PATTERNS,
  LEXICON_WORDS,
  MINOR_TERMS,
  NEGATION_CANCELLERS,
  NEGATORS,
  NEUTRAL_CONTEXTS,
  WORD_CLASSES,
} from './moderation-lexicon.ts';
import type { CueKind, LexiconPattern, Scores } from './moderation-lexicon.ts';
import { squash, wordKey } from './moderation-tokenizer.ts';
import type { TokenStream } from './moderation-tokenizer.ts';
import { MODERATION_CATEGORIES, emptyCategoryRecord } from './moderation-types.ts';
import type { ModerationCategory } from './moderation-types.ts';

export interface TrieNode {
  next2: Map<number, TrieNode>;
  // The same children keyed by the one-letter form; consulted only for tokens that had a
  // doubled letter, so a plain "as" never reaches "ass" and "Niger" never reaches a slur.
  next1: Map<number, TrieNode[]>;
  // Bit set of the marker kinds that end here; for slot tries, any non-zero value.
  ends: number;
}

export interface ScoreEntry {
  category: ModerationCategory;
  weight: number;
  // Evidence is de-duplicated per category and source under this key.
  key: string;
  // Sexual evidence strong enough that a child mentioned nearby makes it sexual/minors.
  feedsMinorRule: boolean;
}

export interface CompiledSlot {
  trie: TrieNode;
  // Slots written the same way share one trie and one id, so a match computed for one
  // pattern is reused by the others at the same position.
  id: number;
  // Indexed by word id: bit 1 when the word can start the slot, bit 2 when its
  // one-letter form can.
  firstWords: Uint8Array;
  maxGapBefore: number;
}

export interface CompiledPattern {
  index: number;
  id: string;
  slots: CompiledSlot[];
  scores: ScoreEntry[];
  // See CompiledWord.saturable.
  saturable: boolean;
  dampenedBy?: number;
  notFollowedBy?: ReadonlySet<string>;
  gapStoppers?: ReadonlySet<string>;
}

export interface CompiledWord {
  id: string;
  word: string;
  scores: ScoreEntry[];
  // Once recorded undampened, a further occurrence cannot raise any score, so the rest of
  // the text may skip it. Not for sexual evidence: each occurrence is checked for a child
  // nearby.
  saturable: boolean;
}

// Sexual evidence this strong, near a word for a child, is sexual/minors.
const SEXUAL_EVIDENCE_FOR_MINORS = 0.3;

const isSaturable = (scores: readonly ScoreEntry[]): boolean => !scores.some((entry) => entry.feedsMinorRule);

export interface CompiledNeutral {
  prev: ReadonlySet<string>;
  next: ReadonlySet<string>;
}

// The marker trie finds every cue and every word for a child in one walk per token; each
// kind has a bit.
export interface MarkBits {
  report: number;
  support: number;
  depiction: number;
  speech: number;
  minor: number;
}
const MARK_BITS: MarkBits = { report: 1, support: 2, depiction: 4, speech: 8, minor: 16 };

export interface CompiledLexicon {
  vocabulary: ReadonlyMap<string, number>;
  words2: ReadonlyMap<string, CompiledWord>;
  words1: ReadonlyMap<string, CompiledWord>;
  // Indexed by word id: the patterns whose first slot can start with that word.
  patternsById2: (CompiledPattern[] | undefined)[];
  patternsById1: (CompiledPattern[] | undefined)[];
  patternCount: number;
  slotCount: number;
  markers: TrieNode;
  markBits: MarkBits;
  // Cues as bits; the dampening factor of every combination of bits; and the bits each
  // category may be dampened by (CATEGORY_DAMPENERS).
  cueBit: Readonly<Record<CueKind, number>>;
  factorByMask: Float64Array;
  dampenerMask: Record<ModerationCategory, number>;
  negators: ReadonlySet<string>;
  negationCancellers: ReadonlySet<string>;
  determiners: ReadonlySet<string>;
  neutral: ReadonlyMap<string, CompiledNeutral>;
  ageUnits: ReadonlySet<string>;
  agePrefixes: ReadonlySet<string>;
}

// Word ids of a token stream: -1 where the lexicon never mentions the word, and for id1
// also where the token had no doubled letter.
export interface TokenIds {
  id2: Int32Array;
  id1: Int32Array;
}

const CUE_KINDS: readonly CueKind[] = ['negation', 'quote', 'speech', 'report', 'support', 'depiction'];
const CUE_BIT = Object.fromEntries(CUE_KINDS.map((kind, bit) => [kind, 1 << bit])) as Record<CueKind, number>;
const cueMask = (kinds: readonly CueKind[]): number => kinds.reduce((mask, kind) => mask | CUE_BIT[kind], 0);

// The dampening factor for every combination of cues: a negation multiplies, and of the
// surrounding cues only the strongest counts, so stacking cue words buys nothing.
const FACTOR_BY_MASK: Float64Array = (() => {
  const table = new Float64Array(1 << CUE_KINDS.length);
  for (let mask = 0; mask < table.length; mask += 1) {
    let surroundings = 1;
    for (const kind of CUE_KINDS) {
      if (kind !== 'negation' && mask & CUE_BIT[kind]) {
        surroundings = Math.min(surroundings, CUE_FACTORS[kind]);
      }
    }
    table[mask] = (mask & CUE_BIT.negation ? CUE_FACTORS.negation : 1) * surroundings;
  }
  return table;
})();

const createNode = (): TrieNode => ({ next2: new Map(), next1: new Map(), ends: 0 });

const splitPatternSlots = (pattern: string): string[] => {
  const parts: string[] = [];
  let current = '';
  let depth = 0;
  for (const ch of pattern) {
    if (ch === '[') depth += 1;
    if (ch === ']') depth -= 1;
    if (ch === ' ' && depth === 0) {
      if (current) parts.push(current);
      current = '';
    } else {
      current += ch;
    }
  }
  if (current) parts.push(current);
  return parts;
};

const scoreEntries = (id: string, scores: Scores): ScoreEntry[] =>
  (Object.entries(scores) as [ModerationCategory, number][]).map(([category, weight]) => ({
    category,
    weight,
    key: `${category} ${id}`,
    feedsMinorRule: category === 'sexual' && weight >= SEXUAL_EVIDENCE_FOR_MINORS,
  }));

const pushAt = <T>(list: (T[] | undefined)[], index: number, value: T): void => {
  const existing = list[index];
  if (existing === undefined) list[index] = [value];
  else if (!existing.includes(value)) existing.push(value);
};

export const compileLexicon = (): CompiledLexicon => {
  const vocabulary = new Map<string, number>();
  const intern = (key: string): number => {
    let id = vocabulary.get(key);
    if (id === undefined) {
      id = vocabulary.size;
      vocabulary.set(key, id);
    }
    return id;
  };

  const insertPhrase = (root: TrieNode, phrase: string, mark: number): void => {
    let node = root;
    for (const word of phrase.split(' ')) {
      if (word === '') continue;
      const k2 = wordKey(word);
      const id2 = intern(k2);
      const id1 = intern(squash(k2, 1));
      let child = node.next2.get(id2);
      if (child === undefined) {
        child = createNode();
        node.next2.set(id2, child);
        const siblings = node.next1.get(id1);
        if (siblings === undefined) node.next1.set(id1, [child]);
        else siblings.push(child);
      }
      node = child;
    }
    if (node !== root) node.ends |= mark;
  };

  const expandAlternative = (alternative: string, id: string): readonly string[] => {
    if (!alternative.startsWith('@')) return [alternative];
    const members = WORD_CLASSES[alternative.slice(1)];
    if (members === undefined) throw new Error(`moderation pattern ${id} uses unknown class ${alternative}`);
    return members;
  };

  // firstWords is filled in at the end, once the vocabulary is complete.
  const sharedSlots = new Map<string, CompiledSlot>();
  const compilePattern = (pattern: LexiconPattern, index: number): CompiledPattern => {
    const slots: CompiledSlot[] = [];
    let gap = 0;
    for (const part of splitPatternSlots(pattern.pattern)) {
      if (part.startsWith('~')) {
        gap = Number(part.slice(1));
        continue;
      }
      let shared = sharedSlots.get(part);
      if (shared === undefined) {
        const trie = createNode();
        const body = part.startsWith('[') ? part.slice(1, -1) : part;
        for (const alternative of body.split('|')) {
          for (const phrase of expandAlternative(alternative, pattern.id)) insertPhrase(trie, phrase, 1);
        }
        shared = { trie, id: sharedSlots.size, firstWords: new Uint8Array(0), maxGapBefore: 0 };
        sharedSlots.set(part, shared);
      }
      slots.push({ ...shared, maxGapBefore: slots.length === 0 ? 0 : gap });
      gap = 0;
    }
    if (slots.length === 0) throw new Error(`moderation pattern ${pattern.id} is empty`);
    const keySet = (words: readonly string[] | undefined): ReadonlySet<string> | undefined =>
      words === undefined ? undefined : new Set(words.map(wordKey));
    const id = `pattern.${pattern.id}`;
    const scores = scoreEntries(id, pattern.scores);
    return {
      index,
      id,
      slots,
      scores,
      saturable: isSaturable(scores),
      dampenedBy: pattern.dampenedBy === undefined ? undefined : cueMask(pattern.dampenedBy),
      notFollowedBy: keySet(pattern.notFollowedBy),
      gapStoppers: keySet(pattern.gapStoppers),
    };
  };

  const patterns = LEXICON_PATTERNS.map(compilePattern);
  const markers = createNode();
  for (const phrase of CUES.report) insertPhrase(markers, phrase, MARK_BITS.report);
  for (const phrase of CUES.support) insertPhrase(markers, phrase, MARK_BITS.support);
  for (const phrase of CUES.depiction) insertPhrase(markers, phrase, MARK_BITS.depiction);
  for (const phrase of CUES.speech) insertPhrase(markers, phrase, MARK_BITS.speech);
  for (const phrase of MINOR_TERMS) insertPhrase(markers, phrase, MARK_BITS.minor);

  // The vocabulary is complete only now, so the per-slot tables are sized last.
  const firstWordTables = new Map<number, Uint8Array>();
  for (const shared of sharedSlots.values()) {
    const table = new Uint8Array(vocabulary.size);
    for (const id of shared.trie.next2.keys()) table[id] = (table[id] as number) | 1;
    for (const id of shared.trie.next1.keys()) table[id] = (table[id] as number) | 2;
    firstWordTables.set(shared.id, table);
  }
  const patternsById2: (CompiledPattern[] | undefined)[] = new Array(vocabulary.size);
  const patternsById1: (CompiledPattern[] | undefined)[] = new Array(vocabulary.size);
  for (const pattern of patterns) {
    for (const slot of pattern.slots) slot.firstWords = firstWordTables.get(slot.id) as Uint8Array;
    const first = pattern.slots[0] as CompiledSlot;
    for (const id of first.trie.next2.keys()) pushAt(patternsById2, id, pattern);
    for (const id of first.trie.next1.keys()) pushAt(patternsById1, id, pattern);
  }

  const words2 = new Map<string, CompiledWord>();
  const words1 = new Map<string, CompiledWord>();
  for (const entry of LEXICON_WORDS) {
    const k2 = wordKey(entry.word);
    const id = `word.${k2}`;
    const scores = scoreEntries(id, entry.scores);
    const compiled: CompiledWord = { id, word: k2, scores, saturable: isSaturable(scores) };
    words2.set(k2, compiled);
    const k1 = squash(k2, 1);
    if (!words1.has(k1)) words1.set(k1, compiled);
  }

  const neutral = new Map<string, CompiledNeutral>();
  for (const [word, context] of Object.entries(NEUTRAL_CONTEXTS)) {
    neutral.set(wordKey(word), {
      prev: new Set((context.prev ?? []).map(wordKey)),
      next: new Set((context.next ?? []).map(wordKey)),
    });
  }
  const dampenerMask = emptyCategoryRecord(0);
  for (const category of MODERATION_CATEGORIES) {
    dampenerMask[category] = cueMask(CATEGORY_DAMPENERS[category]);
  }

  return {
    vocabulary,
    words2,
    words1,
    patternsById2,
    patternsById1,
    patternCount: patterns.length,
    slotCount: sharedSlots.size,
    markers,
    markBits: MARK_BITS,
    factorByMask: FACTOR_BY_MASK,
    cueBit: CUE_BIT,
    negators: new Set(NEGATORS.map(wordKey)),
    negationCancellers: new Set(NEGATION_CANCELLERS.map(wordKey)),
    determiners: new Set(DETERMINERS.map(wordKey)),
    neutral,
    ageUnits: new Set(AGE_UNITS.map(wordKey)),
    agePrefixes: new Set(AGE_PREFIXES.map(wordKey)),
    dampenerMask,
  };
};

export const tokenIds = (lexicon: CompiledLexicon, ts: TokenStream): TokenIds => {
  const n = ts.key2.length;
  const id2 = new Int32Array(n);
  const id1 = new Int32Array(n);
  for (let i = 0; i < n; i += 1) {
    const k2 = ts.key2[i] as string;
    const k1 = ts.key1[i] as string;
    id2[i] = lexicon.vocabulary.get(k2) ?? -1;
    id1[i] = k1 === k2 ? -1 : (lexicon.vocabulary.get(k1) ?? -1);
  }
  return { id2, id1 };
};
