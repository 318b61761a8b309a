// The classifier's knowledge is data: data/moderation/lexicon.json, kept apart from the
// scoring code so a reviewer can read and change it without touching the mechanics. The
// file's `about` entry explains weights, patterns and cues. This module reads it once, at
// start, checks it against the schema below (a misspelt category or cue, a weight outside
// (0, 1], a reference to a shared list that does not exist all stop the process with a
// message naming the place), and hands the classifier typed, frozen values.

import { readFileSync } from 'node:fs';
import { Ajv } from 'ajv';
import { Type, type Static } from 'typebox';
import { MODERATION_CATEGORIES, type ModerationCategory } from './moderation-types.ts';

export type Scores = Partial<Record<ModerationCategory, number>>;

// What can weaken a piece of evidence: a negation just before it ("I would never hurt
// you"), quotation marks around it, a reporting verb before it ("he said ..."), or a
// sentence that is about reporting, prevention/support or a depiction (a novel, the news).
export type CueKind = 'negation' | 'quote' | 'speech' | 'report' | 'support' | 'depiction';

export interface LexiconWord {
  word: string;
  scores: Scores;
}

export interface LexiconPattern {
  id: string;
  pattern: string;
  scores: Scores;
  dampenedBy?: readonly CueKind[];
  notFollowedBy?: readonly string[];
  gapStoppers?: readonly string[];
}

const CUE_KINDS = ['negation', 'quote', 'speech', 'report', 'support', 'depiction'] as const;

const Weight = Type.Number({ exclusiveMinimum: 0, maximum: 1 });
const ScoresSchema = Type.Object(
  Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, Type.Optional(Weight)])),
  { additionalProperties: false, minProperties: 1 },
);
const Cue = Type.Union(CUE_KINDS.map((kind) => Type.Literal(kind)));
const Words = Type.Array(Type.String({ minLength: 1 }));
// A list, or the name of one of shared_lists.
const ListOrName = <T extends Parameters<typeof Type.Array>[0]>(item: T) =>
  Type.Union([Type.Array(item), Type.String({ pattern: '^[a-z_]+$' })]);
const Why = Type.String({ minLength: 1 });

const LexiconFile = Type.Object(
  {
    about: Type.Array(Why),
    cue_factors: Type.Object(Object.fromEntries(CUE_KINDS.map((kind) => [kind, Weight])), {
      additionalProperties: false,
    }),
    category_dampeners_why: Why,
    category_dampeners: Type.Object(
      Object.fromEntries(MODERATION_CATEGORIES.map((category) => [category, Type.Array(Cue)])),
      { additionalProperties: false },
    ),
    cues: Type.Object(
      { report: Words, support: Words, depiction: Words, speech: Words },
      { additionalProperties: false },
    ),
    negators: Words,
    negation_cancellers_why: Why,
    negation_cancellers: Words,
    determiners_why: Why,
    determiners: Words,
    minor_terms_why: Why,
    minor_terms: Words,
    age_units: Words,
    age_prefixes_why: Why,
    age_prefixes: Words,
    neutral_contexts_why: Why,
    neutral_contexts: Type.Record(
      Type.String({ pattern: '^[a-z]+$' }),
      Type.Object(
        { prev: Type.Optional(Words), next: Type.Optional(Words) },
        { additionalProperties: false, minProperties: 1 },
      ),
    ),
    word_classes: Type.Record(Type.String({ pattern: '^[A-Z_]+$' }), Words),
    shared_lists: Type.Record(Type.String({ pattern: '^[a-z_]+$' }), Words),
    shared_lists_why: Why,
    words: Type.Array(
      Type.Object(
        {
          why: Why,
          words: Type.Array(
            Type.Object(
              { word: Type.String({ pattern: '^[a-z]+$' }), scores: ScoresSchema },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
    patterns: Type.Array(
      Type.Object(
        {
          why: Why,
          patterns: Type.Array(
            Type.Object(
              {
                id: Type.String({ pattern: '^[a-z_]+\\.[a-z0-9_]+$' }),
                pattern: Type.String({ minLength: 1 }),
                scores: ScoresSchema,
                dampened_by: Type.Optional(ListOrName(Cue)),
                not_followed_by: Type.Optional(ListOrName(Type.String())),
                gap_stoppers: Type.Optional(ListOrName(Type.String())),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);

export interface Lexicon {
  categoryDampeners: Readonly<Record<ModerationCategory, readonly CueKind[]>>;
  cueFactors: Readonly<Record<CueKind, number>>;
  cues: Readonly<Record<'report' | 'support' | 'depiction' | 'speech', readonly string[]>>;
  negators: readonly string[];
  negationCancellers: readonly string[];
  determiners: readonly string[];
  minorTerms: readonly string[];
  ageUnits: readonly string[];
  agePrefixes: readonly string[];
  neutralContexts: Readonly<Record<string, { prev?: readonly string[]; next?: readonly string[] }>>;
  wordClasses: Readonly<Record<string, readonly string[]>>;
  words: readonly LexiconWord[];
  patterns: readonly LexiconPattern[];
}

export const LEXICON_FILE = new URL('../../../data/moderation/lexicon.json', import.meta.url);

export class LexiconError extends Error {}

export function loadLexicon(file: URL = LEXICON_FILE): Lexicon {
  let raw: unknown;
  try {
    raw = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new LexiconError(`moderation lexicon ${file.pathname}: ${(err as Error).message}`);
  }
  const ajv = new Ajv({ allErrors: false, strict: false });
  const check = ajv.compile<Static<typeof LexiconFile>>(LexiconFile);
  if (!check(raw)) {
    throw new LexiconError(`moderation lexicon ${file.pathname}: ${ajv.errorsText(check.errors)}`);
  }
  const shared = raw.shared_lists;
  const list = <T extends string>(
    value: readonly T[] | string | undefined,
    where: string,
  ): readonly T[] | undefined => {
    if (value === undefined || typeof value !== 'string') return value;
    const named = shared[value];
    if (!named)
      throw new LexiconError(`moderation lexicon: ${where} names an unknown shared list "${value}"`);
    return named as unknown as readonly T[];
  };
  const patterns: LexiconPattern[] = raw.patterns.flatMap((group) =>
    group.patterns.map((p) => {
      const pattern: LexiconPattern = { id: p.id, pattern: p.pattern, scores: p.scores as Scores };
      const dampenedBy = list<CueKind>(p.dampened_by as readonly CueKind[] | string | undefined, p.id);
      if (dampenedBy) {
        const unknown = dampenedBy.find((cue) => !(CUE_KINDS as readonly string[]).includes(cue));
        if (unknown)
          throw new LexiconError(`moderation lexicon: ${p.id} is dampened by unknown cue "${unknown}"`);
        pattern.dampenedBy = dampenedBy;
      }
      const notFollowedBy = list(p.not_followed_by, p.id);
      if (notFollowedBy) pattern.notFollowedBy = notFollowedBy;
      const gapStoppers = list(p.gap_stoppers, p.id);
      if (gapStoppers) pattern.gapStoppers = gapStoppers;
      return pattern;
    }),
  );
  return deepFreeze({
    categoryDampeners: raw.category_dampeners as unknown as Lexicon['categoryDampeners'],
    cueFactors: raw.cue_factors as Lexicon['cueFactors'],
    cues: raw.cues,
    negators: raw.negators,
    negationCancellers: raw.negation_cancellers,
    determiners: raw.determiners,
    minorTerms: raw.minor_terms,
    ageUnits: raw.age_units,
    agePrefixes: raw.age_prefixes,
    neutralContexts: raw.neutral_contexts,
    wordClasses: raw.word_classes,
    words: raw.words.flatMap((group) =>
      group.words.map((w) => ({ word: w.word, scores: w.scores as Scores })),
    ),
    patterns,
  });
}

function deepFreeze<T>(value: T): T {
  if (value !== null && typeof value === 'object' && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const child of Object.values(value)) deepFreeze(child);
  }
  return value;
}

// Loaded once, when the module is first imported: at start, for every role that
// moderates.
const LEXICON = loadLexicon();

export const CATEGORY_DAMPENERS = LEXICON.categoryDampeners;
export const CUE_FACTORS = LEXICON.cueFactors;
export const CUES = LEXICON.cues;
export const NEGATORS = LEXICON.negators;
export const NEGATION_CANCELLERS = LEXICON.negationCancellers;
export const DETERMINERS = LEXICON.determiners;
export const MINOR_TERMS = LEXICON.minorTerms;
export const AGE_UNITS = LEXICON.ageUnits;
export const AGE_PREFIXES = LEXICON.agePrefixes;
export const NEUTRAL_CONTEXTS = LEXICON.neutralContexts;
export const WORD_CLASSES = LEXICON.wordClasses;
export const LEXICON_WORDS = LEXICON.words;
export const LEXICON_PATTERNS = LEXICON.patterns;
