import { AppError, TransientToolError } from '../../platform/errors.ts';
import { parseModerationResult } from './moderation-types.ts';
import type { ModerationClassifier, ModerationResult } from './moderation-types.ts';

// The OpenAI moderation endpoint behind the same interface as the local classifier, for
// operators who have an account and want a model instead of a lexicon. The moderation
// service uses one or the other; nothing else knows which.
//
// The API key is sent in one header and appears nowhere else: not in an error message, not
// in an error's cause, not in a log line (this module does not log).

export const OPENAI_MODERATION_MODEL = 'omni-moderation-latest';

export interface OpenAiModerationAdapterOptions {
  apiKey: string;
  baseUrl?: string;
  // The whole call, body included, must finish within this budget.
  timeoutMs: number;
  fetch?: typeof fetch;
}

export interface OpenAiModerationAdapter extends ModerationClassifier {
  classify(text: string): Promise<ModerationResult>;
}

const invalidResponse = (detail: string, cause?: unknown): AppError =>
  new AppError('moderation_upstream_invalid', 502, `The OpenAI moderation response ${detail}.`, { cause });

export const toModerationResult = (body: unknown): ModerationResult => {
  const results =
    typeof body === 'object' && body !== null ? (body as { results?: unknown }).results : undefined;
  if (!Array.isArray(results) || results.length === 0) throw invalidResponse('has no results');
  const parsed = parseModerationResult(results[0]);
  if (typeof parsed === 'string') throw invalidResponse(parsed);
  return parsed;
};

const isTimeout = (err: unknown): boolean =>
  err instanceof Error &&
  (err.name === 'TimeoutError' || (err.name === 'AbortError' && /timeout/i.test(err.message)));

export const createOpenAiModerationAdapter = (
  options: OpenAiModerationAdapterOptions,
): OpenAiModerationAdapter => {
  if (options.apiKey.trim() === '') throw new Error('createOpenAiModerationAdapter needs an API key');
  const endpoint = new URL('/v1/moderations', options.baseUrl ?? 'https://api.openai.com').toString();
  const doFetch = options.fetch ?? fetch;
  const headers = {
    authorization: `Bearer ${options.apiKey}`,
    'content-type': 'application/json',
    accept: 'application/json',
  };

  const timedOut = (cause: unknown): TransientToolError =>
    new TransientToolError(
      'moderation_timeout',
      `The OpenAI moderation call did not finish within ${options.timeoutMs} ms.`,
      { cause },
    );

  return {
    async classify(text) {
      const signal = AbortSignal.timeout(options.timeoutMs);
      let response: Response;
      try {
        response = await doFetch(endpoint, {
          method: 'POST',
          headers,
          body: JSON.stringify({ model: OPENAI_MODERATION_MODEL, input: text }),
          signal,
        });
      } catch (err) {
        if (isTimeout(err) || signal.aborted) throw timedOut(err);
        throw new TransientToolError(
          'moderation_unreachable',
          'The OpenAI moderation endpoint is unreachable.',
          {
            cause: err,
          },
        );
      }

      if (!response.ok) {
        // Free the connection; the body of an error is not worth reading.
        await response.body?.cancel().catch(() => undefined);
        const message = `The OpenAI moderation endpoint answered ${response.status}.`;
        if (response.status === 429 || response.status >= 500) {
          throw new TransientToolError('moderation_upstream_error', message);
        }
        // 400, 401, 403: a bad key or a bad request will not pass on retry.
        throw new AppError('moderation_upstream_rejected', 502, message);
      }

      let body: unknown;
      try {
        body = await response.json();
      } catch (err) {
        if (isTimeout(err) || signal.aborted) throw timedOut(err);
        throw invalidResponse('is not valid JSON', err);
      }
      return toModerationResult(body);
    },
  };
};
