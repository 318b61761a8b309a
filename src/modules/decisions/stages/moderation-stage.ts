import { AppError } from '../../../platform/errors.ts';
import type { DecisionInput, DecisionStage, StageResult } from '../decision-types.ts';
import type { ModerationClient } from '../../moderation/moderation-client.ts';
import { MODERATION_CATEGORIES, MODERATION_MAX_INPUT_CHARS } from '../../moderation/moderation-types.ts';
import type { ModerationCategory } from '../../moderation/moderation-types.ts';

// Moderates what the user asked for and what the action would carry: the user's prompt
// and every string in the tool arguments (an email body, a note, a URL).
//
// Not the source documents. They are third-party content the assistant happened to read
// (an inbound email, a web page), untrusted by definition and judged by the injection
// stage, which asks the question that matters for them: is this text trying to steer the
// action? Moderating them here would block a user who asks for a summary of a news story
// about a stabbing, and would hand anyone who can put text in front of the assistant a way
// to get the user's unrelated actions denied. Whatever harmful text from a document the
// action would actually send ends up in the arguments, and is moderated there.
//
// The model's rationale is left out for a similar reason: it is the assistant talking to
// the gateway, not content the action carries.
//
// Fail closed: when no verdict can be had (service down, slow, breaker open, bad reply)
// the proposal goes to human review, never through. See
// docs/adr/0007-moderation-fail-closed.md.

const SEPARATOR = '\n\n';
// Below the service's limit even when every character is outside the Basic Multilingual
// Plane (the service counts code points, this counts UTF-16 units).
const DEFAULT_MAX_CHUNK_CHARS = Math.floor(MODERATION_MAX_INPUT_CHARS / 2);
// Chunks overlap so a phrase cut by a chunk boundary is still seen whole in one of them.
const CHUNK_OVERLAP_CHARS = 200;
// Arguments are JSON that already passed the tool's schema; these bounds only guard the walk.
const MAX_ARGUMENT_DEPTH = 16;

export interface ModerationStageDeps {
  client: Pick<ModerationClient, 'moderate'>;
  maxChunkChars?: number;
}

const collectStrings = (value: unknown, depth: number, into: string[]): void => {
  if (depth > MAX_ARGUMENT_DEPTH) return;
  if (typeof value === 'string') {
    if (value.trim() !== '') into.push(value);
  } else if (Array.isArray(value)) {
    for (const item of value) collectStrings(item, depth + 1, into);
  } else if (typeof value === 'object' && value !== null) {
    for (const item of Object.values(value)) collectStrings(item, depth + 1, into);
  }
};

// Separated by blank lines, which the classifier treats as sentence boundaries, so words
// from two different fields never combine into one phrase.
export const moderationText = (input: Pick<DecisionInput, 'arguments' | 'context'>): string => {
  const parts: string[] = [];
  const prompt = input.context.user_prompt;
  if (prompt !== undefined && prompt.trim() !== '') parts.push(prompt);
  collectStrings(input.arguments, 0, parts);
  return parts.join(SEPARATOR);
};

export const chunkText = (text: string, maxChars: number): string[] => {
  if (text.length <= maxChars) return [text];
  const chunks: string[] = [];
  const step = Math.max(1, maxChars - CHUNK_OVERLAP_CHARS);
  for (let start = 0; start < text.length; start += step) {
    let end = Math.min(text.length, start + maxChars);
    // Never split a surrogate pair.
    const last = text.charCodeAt(end - 1);
    if (end < text.length && last >= 0xd800 && last <= 0xdbff) end -= 1;
    chunks.push(text.slice(start, end));
    if (end >= text.length) break;
  }
  return chunks;
};

// The message names the categories and never quotes the text: reasons are stored, shown
// to reviewers and returned to the agent.
const deny = (categories: readonly ModerationCategory[]): StageResult => ({
  outcome: 'deny',
  reasons: [
    {
      code: 'moderation_flagged',
      message:
        categories.length > 0
          ? `Moderation flagged the user prompt or arguments for: ${categories.join(', ')}.`
          : 'Moderation flagged the user prompt or arguments.',
    },
  ],
});

// Only the failure's own message, which names what failed and never the text.
const unavailable = (err: unknown): StageResult => {
  const why = (err instanceof AppError ? err.message : 'The moderation call failed.').replace(/\.$/, '');
  return {
    outcome: 'review',
    reasons: [
      {
        code: 'moderation_unavailable',
        message: `Moderation could not check this proposal (${why.charAt(0).toLowerCase()}${why.slice(1)}); a human must decide.`,
      },
    ],
  };
};

export const createModerationStage = (deps: ModerationStageDeps): DecisionStage => {
  const maxChunkChars = deps.maxChunkChars ?? DEFAULT_MAX_CHUNK_CHARS;
  if (maxChunkChars <= CHUNK_OVERLAP_CHARS) {
    throw new Error(`maxChunkChars must exceed ${CHUNK_OVERLAP_CHARS}`);
  }

  return {
    name: 'moderation',
    async evaluate(input): Promise<StageResult> {
      const text = moderationText(input);
      if (text === '') return { outcome: 'allow', reasons: [] };

      let flagged: Set<ModerationCategory>;
      try {
        const results = await Promise.all(
          chunkText(text, maxChunkChars).map((chunk) => deps.client.moderate(chunk)),
        );
        flagged = new Set(
          MODERATION_CATEGORIES.filter((category) => results.some((result) => result.categories[category])),
        );
        // Flagged without a category (a backend that only sets the top-level flag) is still
        // a verdict against the text.
        if (flagged.size === 0 && results.some((result) => result.flagged)) return deny([]);
      } catch (err) {
        return unavailable(err);
      }

      if (flagged.size === 0) return { outcome: 'allow', reasons: [] };
      return deny([...flagged]);
    },
  };
};
