// The moderation vocabulary shared by the local classifier, the OpenAI adapter, the
// moderation service and the gateway's client. The result mirrors the OpenAI moderation
// response so either backend can sit behind the same service.

export const MODERATION_CATEGORIES = [
  'harassment',
  'harassment/threatening',
  'hate',
  'hate/threatening',
  'self-harm',
  'self-harm/intent',
  'self-harm/instructions',
  'sexual',
  'sexual/minors',
  'violence',
  'violence/graphic',
  'illicit',
  'illicit/violent',
] as const;

export type ModerationCategory = (typeof MODERATION_CATEGORIES)[number];

// The longest input the moderation service accepts, in code points (JSON Schema maxLength
// counts code points). The local classifier examines this much by default, so nothing the
// service accepts goes unexamined.
export const MODERATION_MAX_INPUT_CHARS = 100_000;

// The caller's budget for one call, in milliseconds. The service enforces it on its own
// clock and answers 503 moderation_deadline_exceeded rather than after it.
export const BUDGET_HEADER = 'x-moderation-budget-ms';

export interface ModerationResult {
  flagged: boolean;
  categories: Record<ModerationCategory, boolean>;
  category_scores: Record<ModerationCategory, number>;
}

export interface ModerationClassifier {
  classify(text: string): ModerationResult | Promise<ModerationResult>;
}

export const isModerationCategory = (value: string): value is ModerationCategory =>
  (MODERATION_CATEGORIES as readonly string[]).includes(value);

export const emptyCategoryRecord = <T>(value: T): Record<ModerationCategory, T> => {
  const record = {} as Record<ModerationCategory, T>;
  for (const category of MODERATION_CATEGORIES) record[category] = value;
  return record;
};

const isRecord = (value: unknown): value is Record<string, unknown> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Reads a result that crossed a process boundary (our moderation service, or one entry of
// OpenAI's `results`). A category the sender omits (older OpenAI models lack the illicit
// ones) counts as not flagged with score 0; a wrongly typed field is an error, because a
// verdict we cannot read must not be taken as a pass. Returns the problem, or the result.
export const parseModerationResult = (value: unknown): ModerationResult | string => {
  if (!isRecord(value)) return 'is not an object';
  const { flagged, categories, category_scores: scores } = value;
  if (typeof flagged !== 'boolean' || !isRecord(categories) || !isRecord(scores)) {
    return 'lacks flagged, categories or category_scores';
  }
  const result: ModerationResult = {
    flagged,
    categories: emptyCategoryRecord(false),
    category_scores: emptyCategoryRecord(0),
  };
  for (const category of MODERATION_CATEGORIES) {
    const flag = categories[category];
    const score = scores[category];
    if (flag !== undefined && flag !== null && typeof flag !== 'boolean') {
      return `has a non-boolean flag for ${category}`;
    }
    if (score !== undefined && (typeof score !== 'number' || !Number.isFinite(score))) {
      return `has a non-numeric score for ${category}`;
    }
    result.categories[category] = flag === true;
    result.category_scores[category] = Math.min(1, Math.max(0, score ?? 0));
  }
  // A sender that flags a category but not the whole result (or the reverse) is not trusted
  // to have meant "pass".
  result.flagged ||= MODERATION_CATEGORIES.some((category) => result.categories[category]);
  return result;
};
