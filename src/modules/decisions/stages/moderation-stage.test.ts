import { describe, expect, it } from 'vitest';
import { DEFAULT_POLICY } from '../../policy/policy.repository.ts';
import type { DecisionInput } from '../decision-types.ts';
import { ModerationUnavailableError } from '../../moderation/moderation-client.ts';
import { createModerationClassifier } from '../../moderation/moderation-classifier.ts';
import { chunkText, createModerationStage, moderationText } from './moderation-stage.ts';
import { emptyCategoryRecord } from '../../moderation/moderation-types.ts';
import type { ModerationCategory, ModerationResult } from '../../moderation/moderation-types.ts';

// The client is the stage's only dependency and is tested against a real service in
// moderation-client.int.test.ts; here a fake stands at that seam. Its verdicts come from
// the real local classifier, so the stage sees realistic results.

const classifier = createModerationClassifier();

const fakeClient = (behaviour: 'classify' | 'unavailable' | 'bug' = 'classify') => {
  const seen: string[] = [];
  return {
    seen,
    client: {
      async moderate(text: string): Promise<ModerationResult> {
        seen.push(text);
        if (behaviour === 'unavailable') {
          throw new ModerationUnavailableError(
            'The moderation circuit breaker is open; the service was not called.',
          );
        }
        if (behaviour === 'bug') throw new TypeError('cannot read properties of undefined');
        return classifier.classify(text);
      },
    },
  };
};

const proposal = (overrides: Partial<DecisionInput> = {}): DecisionInput => ({
  tenantId: 'tenant-1',
  tool: 'email.send',
  arguments: { to: 'bob@example.com', subject: 'Hello', body: 'See you at the meeting tomorrow.' },
  userId: 'user-1',
  context: { user_prompt: 'Email Bob that I will see him tomorrow' },
  policy: DEFAULT_POLICY,
  ...overrides,
});

const flaggedResult = (
  categories: ModerationCategory[],
  flagged = categories.length > 0,
): ModerationResult => {
  const result: ModerationResult = {
    flagged,
    categories: emptyCategoryRecord(false),
    category_scores: emptyCategoryRecord(0),
  };
  for (const category of categories) {
    result.categories[category] = true;
    result.category_scores[category] = 0.9;
  }
  return result;
};

describe('createModerationStage', () => {
  it('when the prompt and arguments are benign, then it allows with no reasons', async () => {
    const stage = createModerationStage({ client: fakeClient().client });
    expect(await stage.evaluate(proposal())).toEqual({ outcome: 'allow', reasons: [] });
    expect(stage.name).toBe('moderation');
  });

  it('when an argument is flagged, then it denies with moderation_flagged naming the categories and quoting nothing', async () => {
    const threat = 'I am going to kill you and your whole family';
    const stage = createModerationStage({ client: fakeClient().client });

    const result = await stage.evaluate(
      proposal({ arguments: { to: 'bob@example.com', subject: 'Hi', body: threat } }),
    );

    expect(result.outcome, JSON.stringify(result.reasons)).toBe('deny');
    expect(result.reasons).toHaveLength(1);
    expect(result.reasons[0]?.code).toBe('moderation_flagged');
    expect(result.reasons[0]?.message).toMatch(/harassment\/threatening/);
    expect(result.reasons[0]?.message).toMatch(/violence/);
    expect(result.reasons[0]?.message).not.toContain('kill');
    expect(JSON.stringify(result)).not.toContain('family');
  });

  it('when the user prompt is flagged, then it denies', async () => {
    const stage = createModerationStage({ client: fakeClient().client });
    const result = await stage.evaluate(
      proposal({ context: { user_prompt: 'write him that I know where he lives and I am coming for him' } }),
    );
    expect(result.outcome, JSON.stringify(result.reasons)).toBe('deny');
  });

  it('when the service is unavailable, then it fails closed to review with moderation_unavailable', async () => {
    const stage = createModerationStage({ client: fakeClient('unavailable').client });

    const result = await stage.evaluate(proposal());

    expect(result.outcome, JSON.stringify(result.reasons)).toBe('review');
    expect(result.reasons).toEqual([
      {
        code: 'moderation_unavailable',
        message:
          'Moderation could not check this proposal (the moderation circuit breaker is open; the service was not called); a human must decide.',
      },
    ]);
  });

  it('when the client fails in an unexpected way, then it still fails closed to review without leaking the error', async () => {
    const stage = createModerationStage({ client: fakeClient('bug').client });
    const result = await stage.evaluate(proposal());
    expect(result.outcome, JSON.stringify(result.reasons)).toBe('review');
    expect(result.reasons[0]?.code).toBe('moderation_unavailable');
    expect(result.reasons[0]?.message).not.toContain('undefined');
  });

  it('when only the source documents contain harmful text, then they are not sent and the proposal is allowed', async () => {
    const { client, seen } = fakeClient();
    const stage = createModerationStage({ client });

    const result = await stage.evaluate(
      proposal({
        context: {
          user_prompt: 'Summarise this email for me as a note',
          source_documents: [{ source: 'inbox', content: 'I am going to kill you, you worthless idiot' }],
        },
        tool: 'notes.create',
        arguments: { title: 'Summary', body: 'An angry customer email; escalate to support.' },
      }),
    );

    expect(result.outcome, JSON.stringify(result.reasons)).toBe('allow');
    expect(seen.join('\n')).not.toContain('worthless');
  });

  it('when the backend flags the text without naming a category, then it still denies', async () => {
    const stage = createModerationStage({ client: { moderate: async () => flaggedResult([], true) } });
    const result = await stage.evaluate(proposal());
    expect(result.outcome, JSON.stringify(result.reasons)).toBe('deny');
    expect(result.reasons[0]?.message).toBe('Moderation flagged the user prompt or arguments.');
  });

  it('when nothing is left to moderate, then it allows without calling the client', async () => {
    const { client, seen } = fakeClient('unavailable');
    const stage = createModerationStage({ client });
    const result = await stage.evaluate(proposal({ arguments: { path: '   ' }, context: {} }));
    expect(result.outcome, JSON.stringify(result.reasons)).toBe('allow');
    expect(seen).toEqual([]);
  });

  it('when the text is longer than a chunk, then every chunk is moderated and one flagged chunk denies', async () => {
    const { client, seen } = fakeClient();
    const stage = createModerationStage({ client, maxChunkChars: 1_000 });
    const padding = 'The quarterly report is attached. '.repeat(100);

    const result = await stage.evaluate(
      proposal({ arguments: { body: `${padding} I am going to kill you. ${padding}` } }),
    );

    expect(seen.length).toBeGreaterThan(3);
    expect(seen.every((chunk) => chunk.length <= 1_000)).toBe(true);
    expect(result.outcome, JSON.stringify(result.reasons)).toBe('deny');
  });
});

describe('moderationText', () => {
  it('when arguments are nested, then every string is collected, separated from the prompt and from each other', () => {
    const text = moderationText({
      context: {
        user_prompt: 'prompt',
        model_rationale: 'rationale',
        source_documents: [{ source: 's', content: 'doc' }],
      },
      arguments: { a: 'one', b: { c: ['two', 3, true, null, { d: 'three' }] }, e: 42 },
    });
    expect(text).toBe('prompt\n\none\n\ntwo\n\nthree');
  });
});

describe('chunkText', () => {
  it('when text fits, then it is one chunk; when it does not, then chunks overlap and cover the whole text', () => {
    expect(chunkText('short', 1_000)).toEqual(['short']);
    const text = Array.from({ length: 3_000 }, (_, i) => String.fromCharCode(97 + (i % 26))).join('');
    const chunks = chunkText(text, 1_000);
    expect(chunks.every((chunk) => chunk.length <= 1_000)).toBe(true);
    expect(chunks[0]).toBe(text.slice(0, 1_000));
    expect(chunks.at(-1)?.endsWith(text.slice(-100))).toBe(true);
    expect(chunks[1]?.startsWith(text.slice(800, 900))).toBe(true);
  });

  it('when a boundary falls inside a surrogate pair, then the pair is kept whole', () => {
    const text = `${'a'.repeat(999)}\u{1F600}${'b'.repeat(500)}`;
    const chunks = chunkText(text, 1_000);
    expect(chunks[0]).toBe('a'.repeat(999));
    expect(chunks.join('')).toContain('\u{1F600}');
    expect(chunks.some((chunk) => chunk.includes('\u{1F600}'))).toBe(true);
  });
});
