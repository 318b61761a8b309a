// A local, dependency-free text moderation classifier with the OpenAI moderation
// categories and response shape, so the moderation service runs without an account or a
// network call (the product is local-first) and can be swapped for the OpenAI adapter.
//
// How it works: text is normalised and tokenised (moderation-tokenizer.ts), every token is
// looked up in a weighted lexicon, short phrase patterns ("I will <harm> <you>") are matched
// within each sentence, and each piece of evidence is weakened by what surrounds it: a
// negation just before it, quotation marks, reported speech, or a sentence about reporting,
// prevention or a depiction ("how do I report harassment", "the novel describes violence").
// Category scores are a noisy-OR over distinct evidence, 0..1, compared with per-category
// thresholds. A sub-category raises its parent (self-harm/intent raises self-harm).
//
// Honest limits; read them before trusting a verdict:
// - It is a lexicon, not a model. It knows the words and phrasings written in
//   moderation-lexicon.ts and nothing else. Paraphrase ("it would be a shame if something
//   happened to your family"), euphemism, coded language, new slang and masking (f*ck)
//   get through; so do words split by spaces in the middle ("mur der").
// - English only. Other languages pass unexamined, apart from look-alike letters.
// - It does not understand sarcasm, irony, hyperbole ("I'll kill him if he's late again" is
//   flagged as a threat), reclaimed slurs, or who is speaking to whom beyond a few pronouns.
// - Context dampening can be gamed: a threat is never excused by a report or fiction cue,
//   and instructions are never excused by fiction, but a prevention word in the same
//   sentence ("how to make a bomb to protect my family") does weaken instructions.
// - Negation handling is a three-word window; double negatives and long-distance negation
//   are misread.
// - Input is truncated at maxInputChars code points (default 100 000): text beyond it is
//   never examined. Callers that must cover longer text split it (the decision stage does).
// It is one layer of defence, in front of human review and the other decision stages; it is
// not the whole defence. Its measured precision and recall are in docs/moderation.md.
//
// A trained model adds a second signal (moderation-model.ts, ADR 0030): a linear model
// over hashed n-grams that recognises harm the lexicon has no words for. It is combined
// by OR: when the model's calibrated probability reaches its threshold (chosen on the
// tuning data so it alone allows 95% of benign rows), the category it names is flagged,
// and its score is the larger of the lexicon's and the model's probability mapped onto
// the category's scale (the model's threshold lands on the category's threshold). Below
// its threshold the model adds nothing, so every lexicon verdict stands and the model can
// only add flags. `model: null` gives the lexicon alone.
//
// Cost: linear in the input. Tokenising is one scanning pass; each token then costs a
// bounded number of table and map look-ups, and each pattern attempt inspects at most
// slots x (gap + 1) tokens, both constants of the lexicon. Evidence already recorded at full
// strength is not looked for again, which keeps repetitive hostile input cheap.

import { compileLexicon, tokenIds } from './moderation-lexicon-compiler.ts';
import type {
  CompiledLexicon,
  CompiledPattern,
  CompiledSlot,
  CompiledWord,
  ScoreEntry,
  TokenIds,
  TrieNode,
} from './moderation-lexicon-compiler.ts';
import { loadModerationModel, type ModelVerdict, type ModerationModel } from './moderation-model.ts';
import { squash, tokenize } from './moderation-tokenizer.ts';
import type { TokenStream } from './moderation-tokenizer.ts';
import {
  MODERATION_CATEGORIES,
  MODERATION_MAX_INPUT_CHARS,
  emptyCategoryRecord,
} from './moderation-types.ts';
import type { ModerationCategory, ModerationClassifier, ModerationResult } from './moderation-types.ts';

export const DEFAULT_MAX_INPUT_CHARS = MODERATION_MAX_INPUT_CHARS;

// The lexicon's weights were set so that 0.5 separates the development set
// (moderation-labelled-examples.ts); sexual/minors is the most harmful to miss, so it trips
// earlier.
export const DEFAULT_THRESHOLDS: Readonly<Record<ModerationCategory, number>> = {
  harassment: 0.5,
  'harassment/threatening': 0.5,
  hate: 0.5,
  'hate/threatening': 0.5,
  'self-harm': 0.5,
  'self-harm/intent': 0.5,
  'self-harm/instructions': 0.5,
  sexual: 0.5,
  'sexual/minors': 0.4,
  violence: 0.5,
  'violence/graphic': 0.5,
  illicit: 0.5,
  'illicit/violent': 0.5,
};

const PARENTS: readonly [ModerationCategory, ModerationCategory][] = [
  ['harassment/threatening', 'harassment'],
  ['hate/threatening', 'hate'],
  ['self-harm/intent', 'self-harm'],
  ['self-harm/instructions', 'self-harm'],
  ['sexual/minors', 'sexual'],
  ['violence/graphic', 'violence'],
  ['illicit/violent', 'illicit'],
];

const NEGATION_WINDOW = 3;
const NEUTRAL_LOOKAHEAD_DETERMINERS = 2;
const MINOR_WINDOW = 25;
const MINOR_COOCCURRENCE_WEIGHT = 0.85;
const SUFFIXES: readonly [string, string][] = [
  ['s', ''],
  ['es', ''],
  ['d', ''],
  ['ed', ''],
  ['r', ''],
  ['er', ''],
  ['rs', ''],
  ['ers', ''],
  ['ing', ''],
  ['ing', 'e'],
  ['ies', 'y'],
  ['ied', 'y'],
  ['ly', ''],
];
const MIN_STEM = 3;

export interface ModerationClassifierOptions {
  maxInputChars?: number;
  thresholds?: Partial<Record<ModerationCategory, number>>;
  // The trained model; undefined loads the shipped one (data/moderation/model.json), null
  // runs the lexicon alone.
  model?: ModerationModel | null;
}

export interface ModerationEvidence {
  id: string;
  category: ModerationCategory;
  weight: number;
  // The product of the dampening factors applied; 1 when nothing weakened it.
  factor: number;
}

export interface ModerationExplanation {
  result: ModerationResult;
  truncated: boolean;
  evidence: ModerationEvidence[];
  // The trained model's verdict; null when the classifier runs without one.
  model: ModelVerdict | null;
}

export interface LocalModerationClassifier extends ModerationClassifier {
  classify(text: string): ModerationResult;
  explain(text: string): ModerationExplanation;
}

const lookupWithStems = (key: string, index: ReadonlyMap<string, CompiledWord>): CompiledWord | undefined => {
  const exact = index.get(key);
  if (exact !== undefined) return exact;
  for (const [suffix, replacement] of SUFFIXES) {
    if (key.length - suffix.length < MIN_STEM || !key.endsWith(suffix)) continue;
    const hit = index.get(key.slice(0, key.length - suffix.length) + replacement);
    if (hit !== undefined) return hit;
  }
  return undefined;
};

// Length of the longest phrase starting at token `start` (0 when none), or, with
// collectMarks, the union of the marks of every phrase starting there.
const walkTrie = (
  node: TrieNode,
  ids: TokenIds,
  start: number,
  at: number,
  end: number,
  collectMarks: boolean,
): number => {
  let best = collectMarks ? node.ends : node.ends !== 0 ? at - start : 0;
  if (at >= end) return best;
  const id2 = ids.id2[at] as number;
  const id1 = ids.id1[at] as number;
  const child = id2 < 0 ? undefined : node.next2.get(id2);
  if (child !== undefined) {
    const found = walkTrie(child, ids, start, at + 1, end, collectMarks);
    best = collectMarks ? best | found : Math.max(best, found);
  }
  const others = id1 < 0 ? undefined : node.next1.get(id1);
  if (others !== undefined) {
    for (const other of others) {
      if (other === child) continue;
      const found = walkTrie(other, ids, start, at + 1, end, collectMarks);
      best = collectMarks ? best | found : Math.max(best, found);
    }
  }
  return best;
};

const isDigits = (text: string): boolean => {
  for (let i = 0; i < text.length; i += 1) {
    const code = text.charCodeAt(i);
    if (code < 48 || code > 57) return false;
  }
  return text.length > 0;
};

const isMinorAgeNumber = (raw: string): boolean => {
  if (raw.length > 2 || !isDigits(raw)) return false;
  const value = Number(raw);
  return value >= 1 && value < 18;
};

const AGE_SUFFIXES: readonly string[] = ['yo', 'yrs', 'yr'];

// "12yo", "14yrs"
const isMinorAgeToken = (raw: string): boolean => {
  const first = raw.charCodeAt(0);
  if (first < 48 || first > 57 || raw.length > 5) return false;
  for (const unit of AGE_SUFFIXES) {
    if (raw.endsWith(unit) && raw.length > unit.length) return isMinorAgeNumber(raw.slice(0, -unit.length));
  }
  return false;
};

interface SentenceContext {
  report: Uint8Array;
  support: Uint8Array;
  depiction: Uint8Array;
  // Index of the first reported-speech cue in each sentence; -1 when none.
  firstSpeech: Int32Array;
  // One past the last token of each sentence.
  end: Int32Array;
  minor: Uint8Array;
}

const analyseContext = (lexicon: CompiledLexicon, ts: TokenStream, ids: TokenIds): SentenceContext => {
  const n = ts.key2.length;
  const count = ts.sentenceCount;
  const context: SentenceContext = {
    report: new Uint8Array(count),
    support: new Uint8Array(count),
    depiction: new Uint8Array(count),
    firstSpeech: new Int32Array(count).fill(-1),
    end: new Int32Array(count),
    minor: new Uint8Array(n),
  };
  for (let i = 0; i < n; i += 1) context.end[ts.sentence[i] as number] = i + 1;
  const bits = lexicon.markBits;
  for (let i = 0; i < n; i += 1) {
    const s = ts.sentence[i] as number;
    const end = context.end[s] as number;
    const marks = walkTrie(lexicon.markers, ids, i, i, end, true);
    if (marks !== 0) {
      if (marks & bits.report) context.report[s] = 1;
      if (marks & bits.support) context.support[s] = 1;
      if (marks & bits.depiction) context.depiction[s] = 1;
      if (marks & bits.speech && context.firstSpeech[s] === -1) context.firstSpeech[s] = i;
      if (marks & bits.minor) context.minor[i] = 1;
    }
    const raw = ts.raw[i] as string;
    if (isMinorAgeToken(raw)) context.minor[i] = 1;
    if (isMinorAgeNumber(raw)) {
      const next = i + 1 < end ? (ts.key2[i + 1] as string) : '';
      const previous = i > 0 && ts.sentence[i - 1] === s ? (ts.key2[i - 1] as string) : '';
      if (lexicon.ageUnits.has(next) || lexicon.agePrefixes.has(previous)) context.minor[i] = 1;
    }
  }
  return context;
};

const MAX_SLOT_TOKENS = 64;

export const createModerationClassifier = (
  options: ModerationClassifierOptions = {},
): LocalModerationClassifier => {
  const maxInputChars = options.maxInputChars ?? DEFAULT_MAX_INPUT_CHARS;
  if (!Number.isInteger(maxInputChars) || maxInputChars < 1) {
    throw new Error('maxInputChars must be a positive integer');
  }
  const thresholds = { ...DEFAULT_THRESHOLDS, ...options.thresholds };
  const lexicon = compileLexicon();
  const model = options.model === undefined ? loadModerationModel() : options.model;

  const explain = (text: string): ModerationExplanation => {
    const ts = tokenize(text, { maxInputChars });
    const ids = tokenIds(lexicon, ts);
    const n = ts.key2.length;
    const context = analyseContext(lexicon, ts, ids);
    const evidence = new Map<string, ModerationEvidence>();
    const { cueBit, factorByMask } = lexicon;
    const sexualPositions: number[] = [];

    const isNegator = (j: number): boolean =>
      lexicon.negators.has(ts.key2[j] as string) && !lexicon.negationCancellers.has(ts.key2[j + 1] as string);

    const negatedBefore = (start: number): boolean => {
      const s = ts.sentence[start];
      for (let j = start - 1; j >= 0 && j >= start - NEGATION_WINDOW && ts.sentence[j] === s; j -= 1) {
        if (isNegator(j)) return true;
      }
      return false;
    };

    // Which cues surround a piece of evidence, as a bit set over lexicon.cueBit.
    const cuesAt = (start: number, negatedInside: boolean): number => {
      const s = ts.sentence[start] as number;
      const speech = context.firstSpeech[s] as number;
      let mask = 0;
      if (negatedInside || negatedBefore(start)) mask |= cueBit.negation;
      if (ts.quoted[start] === 1) mask |= cueBit.quote;
      if (speech !== -1 && speech < start) mask |= cueBit.speech;
      if (context.report[s] === 1) mask |= cueBit.report;
      if (context.support[s] === 1) mask |= cueBit.support;
      if (context.depiction[s] === 1) mask |= cueBit.depiction;
      return mask;
    };

    const record = (
      key: string,
      id: string,
      category: ModerationCategory,
      weight: number,
      factor: number,
    ): void => {
      const existing = evidence.get(key);
      if (existing === undefined || existing.weight * existing.factor < weight * factor) {
        evidence.set(key, { id, category, weight, factor });
      }
    };

    // Returns whether every category was recorded undampened.
    const score = (
      id: string,
      scores: readonly ScoreEntry[],
      start: number,
      negatedInside: boolean,
      override: number | undefined,
    ): boolean => {
      const cues = cuesAt(start, negatedInside);
      let undampened = true;
      for (const { category, weight, key, feedsMinorRule } of scores) {
        const factor = factorByMask[cues & (override ?? lexicon.dampenerMask[category])] as number;
        record(key, id, category, weight, factor);
        undampened &&= factor === 1;
        if (feedsMinorRule) sexualPositions.push(start);
      }
      return undampened;
    };
    const saturatedPatterns = new Uint8Array(lexicon.patternCount);
    const saturatedWords = new Set<string>();

    // The word after i, skipping up to two determiners, within the sentence; "" when none.
    const nextContentWord = (i: number, end: number): string => {
      let j = i + 1;
      for (let skipped = 0; j < end && skipped < NEUTRAL_LOOKAHEAD_DETERMINERS; skipped += 1) {
        if (!lexicon.determiners.has(ts.key2[j] as string)) break;
        j += 1;
      }
      return j < end ? (ts.key2[j] as string) : '';
    };

    const wordCache = new Map<string, CompiledWord | null>();
    const lookupWord = (i: number): CompiledWord | undefined => {
      const k2 = ts.key2[i] as string;
      const alt = ts.alt[i] as string;
      const cacheKey = alt === '' ? k2 : `${k2} ${alt}`;
      const cached = wordCache.get(cacheKey);
      if (cached !== undefined) return cached ?? undefined;
      const k1 = ts.key1[i] as string;
      const found =
        lookupWithStems(k2, lexicon.words2) ??
        (k1 !== k2 ? lookupWithStems(k1, lexicon.words1) : undefined) ??
        (alt !== ''
          ? (lookupWithStems(alt, lexicon.words2) ?? lookupWithStems(squash(alt, 1), lexicon.words1))
          : undefined);
      wordCache.set(cacheKey, found ?? null);
      return found;
    };

    const baseWords: (string | undefined)[] = new Array<string | undefined>(n);
    const isNeutralised = (i: number, end: number): boolean => {
      const rules = lexicon.neutral.get(ts.key2[i] as string) ?? lexicon.neutral.get(baseWords[i] ?? '');
      if (rules === undefined) return false;
      const previous = i > 0 && ts.sentence[i - 1] === ts.sentence[i] ? (ts.key2[i - 1] as string) : '';
      return rules.prev.has(previous) || rules.next.has(nextContentWord(i, end));
    };

    const memoAt = new Int32Array(lexicon.slotCount).fill(-1);
    const memoLength = new Int32Array(lexicon.slotCount);
    const matchSlot = (slot: CompiledSlot, at: number, end: number): number => {
      const id2 = ids.id2[at] as number;
      const id1 = ids.id1[at] as number;
      // Most positions fail on the first word; a table read settles them.
      if (
        (id2 < 0 || !((slot.firstWords[id2] as number) & 1)) &&
        (id1 < 0 || !((slot.firstWords[id1] as number) & 2))
      ) {
        return 0;
      }
      if (memoAt[slot.id] === at) return memoLength[slot.id] as number;
      const length = walkTrie(slot.trie, ids, at, at, end, false);
      memoAt[slot.id] = at;
      memoLength[slot.id] = length;
      return length;
    };

    // Positions of single-word slot matches, checked for everyday uses; a multi-word phrase
    // ("shoot up") is specific enough on its own.
    const singleWordSlots = new Int32Array(MAX_SLOT_TOKENS);

    const matchPattern = (pattern: CompiledPattern, start: number, end: number): void => {
      let singles = 0;
      let position = start;
      let negatedInside = false;
      for (const slot of pattern.slots) {
        let matched = 0;
        let at = position;
        for (let gap = 0; gap <= slot.maxGapBefore && position + gap < end; gap += 1) {
          at = position + gap;
          if (gap > 0) {
            if (pattern.gapStoppers?.has(ts.key2[at - 1] as string)) return;
            if (isNegator(at - 1)) negatedInside = true;
          }
          matched = matchSlot(slot, at, end);
          if (matched > 0) break;
        }
        if (matched === 0) return;
        if (matched === 1 && singles < MAX_SLOT_TOKENS) singleWordSlots[singles++] = at;
        position = at + matched;
      }
      for (let k = 0; k < singles; k += 1) if (isNeutralised(singleWordSlots[k] as number, end)) return;
      if (pattern.notFollowedBy?.has(nextContentWord(position - 1, end))) return;
      if (score(pattern.id, pattern.scores, start, negatedInside, pattern.dampenedBy) && pattern.saturable) {
        saturatedPatterns[pattern.index] = 1;
      }
    };

    for (let i = 0; i < n; i += 1) {
      const end = context.end[ts.sentence[i] as number] as number;
      const word = lookupWord(i);
      baseWords[i] = word?.word;
      if (word === undefined || saturatedWords.has(word.id) || isNeutralised(i, end)) continue;
      if (score(word.id, word.scores, i, false, undefined) && word.saturable) saturatedWords.add(word.id);
    }
    const tried = new Int32Array(lexicon.patternCount).fill(-1);
    const tryPatterns = (patterns: CompiledPattern[] | undefined, i: number, end: number): void => {
      if (patterns === undefined) return;
      for (const pattern of patterns) {
        if (tried[pattern.index] === i || saturatedPatterns[pattern.index] === 1) continue;
        tried[pattern.index] = i;
        matchPattern(pattern, i, end);
      }
    };
    for (let i = 0; i < n; i += 1) {
      const end = context.end[ts.sentence[i] as number] as number;
      const id2 = ids.id2[i] as number;
      const id1 = ids.id1[i] as number;
      if (id2 >= 0) tryPatterns(lexicon.patternsById2[id2], i, end);
      if (id1 >= 0) tryPatterns(lexicon.patternsById1[id1], i, end);
    }

    // Sexual content within a few words of a child is sexual/minors, whatever the wording.
    if (sexualPositions.length > 0) {
      const minorPrefix = new Int32Array(n + 1);
      for (let i = 0; i < n; i += 1) {
        minorPrefix[i + 1] = (minorPrefix[i] as number) + (context.minor[i] as number);
      }
      for (const position of sexualPositions) {
        const from = Math.max(0, position - MINOR_WINDOW);
        const to = Math.min(n, position + MINOR_WINDOW + 1);
        if ((minorPrefix[to] as number) - (minorPrefix[from] as number) > 0) {
          const factor = factorByMask[
            cuesAt(position, false) & lexicon.dampenerMask['sexual/minors']
          ] as number;
          record(
            'sexual/minors rule.sexual_near_minor',
            'rule.sexual_near_minor',
            'sexual/minors',
            MINOR_COOCCURRENCE_WEIGHT,
            factor,
          );
        }
      }
    }

    const evidenceList = [...evidence.values()];
    const remaining = emptyCategoryRecord(1);
    for (const item of evidenceList) remaining[item.category] *= 1 - Math.min(1, item.weight * item.factor);
    const scores = emptyCategoryRecord(0);
    for (const category of MODERATION_CATEGORIES) scores[category] = 1 - remaining[category];
    for (const [child, parent] of PARENTS) scores[parent] = Math.max(scores[parent], scores[child]);
    const verdict =
      model === null ? null : model.assess(text.length > maxInputChars ? text.slice(0, maxInputChars) : text);
    if (model !== null && verdict?.category) {
      const category = verdict.category;
      const own = thresholds[category];
      const mapped = own + ((verdict.probability - model.threshold) / (1 - model.threshold)) * (1 - own);
      scores[category] = Math.max(scores[category], Math.min(1, mapped));
      evidenceList.push({ id: 'model.harmful', category, weight: verdict.probability, factor: 1 });
    }
    const categories = emptyCategoryRecord(false);
    let flagged = false;
    for (const category of MODERATION_CATEGORIES) {
      scores[category] = Math.round(scores[category] * 10_000) / 10_000;
      categories[category] = scores[category] >= thresholds[category];
      flagged ||= categories[category];
    }
    return {
      result: { flagged, categories, category_scores: scores },
      truncated: ts.truncated,
      evidence: evidenceList,
      model: verdict,
    };
  };

  return {
    classify: (text) => explain(text).result,
    explain,
  };
};
