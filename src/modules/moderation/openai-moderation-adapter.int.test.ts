import { createServer } from 'node:http';
import type { IncomingMessage, Server, ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { AppError, TransientToolError } from '../../platform/errors.ts';
import { MODERATION_CATEGORIES } from './moderation-types.ts';
import { OPENAI_MODERATION_MODEL, createOpenAiModerationAdapter } from './openai-moderation-adapter.ts';

// A stand-in for api.openai.com on 127.0.0.1: real HTTP, real sockets, real timeouts.

const API_KEY = 'sk-test-do-not-leak-0123456789';

interface Seen {
  method: string | undefined;
  url: string | undefined;
  authorization: string | undefined;
  body: unknown;
}

type Handler = (request: IncomingMessage, response: ServerResponse, body: string) => void;

const servers: Server[] = [];
afterEach(async () => {
  await Promise.all(
    servers.splice(0).map(
      (server) =>
        new Promise<void>((resolve) => {
          server.closeAllConnections();
          server.close(() => resolve());
        }),
    ),
  );
});

const startFake = async (handler: Handler): Promise<{ baseUrl: string; seen: Seen[] }> => {
  const seen: Seen[] = [];
  const server = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      const body = Buffer.concat(chunks).toString();
      seen.push({
        method: request.method,
        url: request.url,
        authorization: request.headers.authorization,
        body: body ? JSON.parse(body) : undefined,
      });
      handler(request, response, body);
    });
  });
  servers.push(server);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return { baseUrl: `http://127.0.0.1:${port}`, seen };
};

const openAiBody = (flagged: boolean, overrides: Record<string, unknown> = {}) => ({
  id: 'modr-1',
  model: OPENAI_MODERATION_MODEL,
  results: [
    {
      flagged,
      categories: Object.fromEntries(MODERATION_CATEGORIES.map((c) => [c, flagged && c === 'violence'])),
      category_scores: Object.fromEntries(
        MODERATION_CATEGORIES.map((c) => [c, c === 'violence' ? 0.91 : 0.01]),
      ),
      category_applied_input_types: {},
      ...overrides,
    },
  ],
});

const json = (response: ServerResponse, status: number, body: unknown): void => {
  response.writeHead(status, { 'content-type': 'application/json' });
  response.end(JSON.stringify(body));
};

// Rejects if the promise resolves, so an assertion on the error cannot pass vacuously.
const failure = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );

describe('createOpenAiModerationAdapter', () => {
  it('when the endpoint answers 200, then it posts the text with the model and key and maps the result', async () => {
    const fake = await startFake((_request, response) => json(response, 200, openAiBody(true)));
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const result = await adapter.classify('some text');

    expect(fake.seen).toEqual([
      {
        method: 'POST',
        url: '/v1/moderations',
        authorization: `Bearer ${API_KEY}`,
        body: { model: 'omni-moderation-latest', input: 'some text' },
      },
    ]);
    expect(result.flagged).toBe(true);
    expect(result.categories.violence).toBe(true);
    expect(result.category_scores.violence).toBe(0.91);
    expect(Object.keys(result.categories).sort()).toEqual([...MODERATION_CATEGORIES].sort());
  });

  it('when the model omits a category, then that category reads as not flagged with score 0', async () => {
    const body = openAiBody(false);
    const first = body.results[0] as {
      categories: Record<string, unknown>;
      category_scores: Record<string, unknown>;
    };
    delete first.categories.illicit;
    delete first.category_scores.illicit;
    const fake = await startFake((_request, response) => json(response, 200, body));
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const result = await adapter.classify('text');

    expect(result.categories.illicit).toBe(false);
    expect(result.category_scores.illicit).toBe(0);
  });

  it('when the endpoint answers 500, then it throws a TransientToolError', async () => {
    const fake = await startFake((_request, response) => json(response, 500, { error: { message: 'boom' } }));
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const err = await failure(adapter.classify('text'));

    expect(err).toBeInstanceOf(TransientToolError);
    expect(err).toMatchObject({ code: 'moderation_upstream_error', status: 503 });
  });

  it('when the endpoint answers 429, then it is transient too', async () => {
    const fake = await startFake((_request, response) =>
      json(response, 429, { error: { message: 'slow down' } }),
    );
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });
    expect(await failure(adapter.classify('text'))).toBeInstanceOf(TransientToolError);
  });

  it('when the endpoint answers 401, then it throws a non-transient AppError', async () => {
    const fake = await startFake((_request, response) =>
      json(response, 401, { error: { message: 'bad key' } }),
    );
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const err = await failure(adapter.classify('text'));

    expect(err).toBeInstanceOf(AppError);
    expect(err).not.toBeInstanceOf(TransientToolError);
    expect(err).toMatchObject({ code: 'moderation_upstream_rejected', status: 502 });
  });

  it('when the endpoint is slower than the timeout, then it throws moderation_timeout within the budget', async () => {
    const fake = await startFake((_request, response) => {
      setTimeout(() => json(response, 200, openAiBody(false)), 2_000).unref();
    });
    const adapter = createOpenAiModerationAdapter({ apiKey: API_KEY, baseUrl: fake.baseUrl, timeoutMs: 200 });

    const started = performance.now();
    const err = await failure(adapter.classify('text'));

    expect(err).toBeInstanceOf(TransientToolError);
    expect(err).toMatchObject({ code: 'moderation_timeout' });
    expect(performance.now() - started).toBeLessThan(1_500);
  });

  it('when the body stalls after the headers, then the same timeout still ends the call', async () => {
    const fake = await startFake((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.write('{"results": [');
    });
    const adapter = createOpenAiModerationAdapter({ apiKey: API_KEY, baseUrl: fake.baseUrl, timeoutMs: 200 });

    const err = await failure(adapter.classify('text'));

    expect(err).toMatchObject({ code: 'moderation_timeout' });
  });

  it('when the endpoint answers malformed JSON, then it throws moderation_upstream_invalid', async () => {
    const fake = await startFake((_request, response) => {
      response.writeHead(200, { 'content-type': 'application/json' });
      response.end('{"results": [ {"flagged": tru');
    });
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const err = await failure(adapter.classify('text'));

    expect(err).toBeInstanceOf(AppError);
    expect(err).toMatchObject({ code: 'moderation_upstream_invalid', status: 502 });
  });

  it('when the JSON has the wrong shape, then it throws moderation_upstream_invalid rather than passing the text', async () => {
    const fake = await startFake((_request, response) =>
      json(response, 200, openAiBody(false, { category_scores: { violence: 'high' } })),
    );
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });
    expect(await failure(adapter.classify('text'))).toMatchObject({ code: 'moderation_upstream_invalid' });
  });

  it('when nothing listens at the address, then it throws a transient moderation_unreachable', async () => {
    const fake = await startFake(() => undefined);
    await new Promise<void>((resolve) => servers.pop()?.close(() => resolve()));
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const err = await failure(adapter.classify('text'));

    expect(err).toBeInstanceOf(TransientToolError);
    expect(err).toMatchObject({ code: 'moderation_unreachable' });
  });

  it('when any call fails, then the API key appears nowhere in the error', async () => {
    const fake = await startFake((_request, response) =>
      json(response, 401, { error: { message: 'bad key' } }),
    );
    const adapter = createOpenAiModerationAdapter({
      apiKey: API_KEY,
      baseUrl: fake.baseUrl,
      timeoutMs: 2_000,
    });

    const err = (await failure(adapter.classify('text'))) as AppError;
    const seen = JSON.stringify({
      message: err.message,
      stack: err.stack,
      cause: String(err.cause),
      extras: err.extras,
    });

    expect(seen).not.toContain(API_KEY);
  });

  it('when the API key is empty, then creating the adapter throws', () => {
    expect(() => createOpenAiModerationAdapter({ apiKey: ' ', timeoutMs: 1_000 })).toThrow(/API key/);
  });
});
