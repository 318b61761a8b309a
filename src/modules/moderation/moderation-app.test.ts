import { Writable } from 'node:stream';
import { Registry } from 'prom-client';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { buildModerationApp } from './moderation-app.ts';
import type { ModerationAppDeps } from './moderation-app.ts';
import { createModerationClassifier } from './moderation-classifier.ts';
import { MODERATION_CATEGORIES, MODERATION_MAX_INPUT_CHARS } from './moderation-types.ts';

const classifier = createModerationClassifier();

const captureLogs = () => {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _encoding, callback) {
      lines.push(chunk.toString());
      callback();
    },
  });
  return { lines, logger: createLogger({ level: 'info', destination }) };
};

const apps: ReturnType<typeof buildModerationApp>[] = [];
const build = (overrides: Partial<ModerationAppDeps> = {}) => {
  const app = buildModerationApp({ logger: captureLogs().logger, classifier, ...overrides });
  apps.push(app);
  return app;
};

afterEach(async () => {
  await Promise.all(apps.splice(0).map((app) => app.close()));
});

const moderate = (app: ReturnType<typeof buildModerationApp>, body: unknown) =>
  app.inject({ method: 'POST', url: '/v1/moderate', payload: body as Record<string, unknown> });

describe('POST /v1/moderate', () => {
  it('when harmful text is posted, then it answers 200 with the OpenAI-shaped result, flagged', async () => {
    const response = await moderate(build(), { input: 'I am going to kill you' });
    expect(response.statusCode).toBe(200);
    const body = response.json();
    expect(body.flagged).toBe(true);
    expect(body.categories['harassment/threatening']).toBe(true);
    expect(Object.keys(body.category_scores).sort()).toEqual([...MODERATION_CATEGORIES].sort());
  });

  it('when benign text is posted, then it answers 200 and nothing is flagged', async () => {
    const response = await moderate(build(), { input: 'Please kill the stuck worker process' });
    expect(response.statusCode).toBe(200);
    expect(response.json().flagged).toBe(false);
  });

  it('when the body has an unknown field, then it answers 400 invalid_request as problem+json naming the field', async () => {
    const response = await moderate(build(), { input: 'hi', model: 'x' });
    expect(response.statusCode).toBe(400);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json()).toMatchObject({
      type: 'https://airlock.dev/problems/invalid_request',
      status: 400,
      code: 'invalid_request',
      errors: [{ field: 'body.model', message: 'is not an allowed field' }],
    });
  });

  it('when input is missing, then it answers 400 invalid_request', async () => {
    const response = await moderate(build(), {});
    expect(response.statusCode).toBe(400);
    expect(response.json().code).toBe('invalid_request');
  });

  it('when input is longer than the limit, then it answers 400; at the limit it is accepted', async () => {
    const app = build();
    const tooLong = await moderate(app, { input: 'a'.repeat(MODERATION_MAX_INPUT_CHARS + 1) });
    expect(tooLong.statusCode).toBe(400);
    expect(tooLong.json().code).toBe('invalid_request');
    const atLimit = await moderate(app, { input: 'a'.repeat(MODERATION_MAX_INPUT_CHARS) });
    expect(atLimit.statusCode).toBe(200);
  });

  it('when input is outside the Basic Multilingual Plane, then the limit counts code points, as the classifier does', async () => {
    const app = build();
    // 99 980 emoji are 199 960 UTF-16 units: accepted, and the threat after them is still examined.
    const accepted = await moderate(app, { input: `${'\u{1F600}'.repeat(99_980)} I will kill you` });
    expect(accepted.statusCode).toBe(200);
    expect(accepted.json().categories['harassment/threatening']).toBe(true);
    expect((await moderate(app, { input: '\u{1F600}'.repeat(100_001) })).statusCode).toBe(400);
  });

  it('when the body is larger than 1 MiB, then it answers 413 payload_too_large', async () => {
    const response = await build().inject({
      method: 'POST',
      url: '/v1/moderate',
      headers: { 'content-type': 'application/json' },
      payload: JSON.stringify({ input: 'a'.repeat(1024 * 1024 + 10) }),
    });
    expect(response.statusCode).toBe(413);
    expect(response.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(response.json().code).toBe('payload_too_large');
  });

  it('when the body is not JSON, then it answers 400 or 415 as problem+json', async () => {
    const app = build();
    const broken = await app.inject({
      method: 'POST',
      url: '/v1/moderate',
      headers: { 'content-type': 'application/json' },
      payload: '{"input": ',
    });
    expect(broken.statusCode).toBe(400);
    expect(broken.json().code).toBe('invalid_request');
    const xml = await app.inject({
      method: 'POST',
      url: '/v1/moderate',
      headers: { 'content-type': 'application/xml' },
      payload: '<input>hello</input>',
    });
    expect(xml.statusCode).toBe(415);
    expect(xml.json().code).toBe('unsupported_media_type');
  });

  it('when the classifier throws, then it answers 500 internal_error without the details', async () => {
    const { lines, logger } = captureLogs();
    const app = build({
      logger,
      classifier: {
        classify: () => {
          throw new Error('lexicon exploded at secret place');
        },
      },
    });
    const response = await moderate(app, { input: 'hello' });
    expect(response.statusCode).toBe(500);
    expect(response.json()).toMatchObject({
      code: 'internal_error',
      detail: 'An unexpected error occurred.',
    });
    expect(response.body).not.toContain('secret place');
    expect(lines.join('')).toContain('lexicon exploded');
  });

  it('when a request is served, then the text under moderation never reaches the log', async () => {
    const { lines, logger } = captureLogs();
    const app = build({ logger });
    await moderate(app, { input: 'my card is 4111 1111 1111 1111 and I will kill you' });
    await moderate(app, { input: 'zzz-private-zzz', extra: true });
    expect(lines.length).toBeGreaterThan(0);
    expect(lines.join('')).not.toContain('4111');
    expect(lines.join('')).not.toContain('zzz-private-zzz');
  });

  it('when an unknown route is requested, then it answers 404 not_found as problem+json', async () => {
    const response = await build().inject({ method: 'GET', url: '/v1/nothing' });
    expect(response.statusCode).toBe(404);
    expect(response.json().code).toBe('not_found');
  });
});

describe('fault injection', () => {
  it('when the fail rate is 1, then every moderation request answers 503 moderation_fault_injected', async () => {
    const app = build({ faults: { latencyMs: () => 0, failRate: () => 1 } });
    const response = await moderate(app, { input: 'hello' });
    expect(response.statusCode).toBe(503);
    expect(response.json().code).toBe('moderation_fault_injected');
  });

  it('when the fail rate is 0.5, then requests whose draw falls below it fail and the others pass', async () => {
    const draws = [0.2, 0.8];
    const app = build({
      faults: { latencyMs: () => 0, failRate: () => 0.5 },
      random: () => draws.shift() ?? 1,
    });
    expect((await moderate(app, { input: 'hello' })).statusCode).toBe(503);
    expect((await moderate(app, { input: 'hello' })).statusCode).toBe(200);
  });

  it('when latency is injected, then the answer is delayed by about that much', async () => {
    const app = build({ faults: { latencyMs: () => 150, failRate: () => 0 } });
    const started = performance.now();
    const response = await moderate(app, { input: 'hello' });
    expect(response.statusCode).toBe(200);
    expect(performance.now() - started).toBeGreaterThanOrEqual(140);
  });

  it('when faults are injected, then the health endpoints are unaffected', async () => {
    const app = build({ faults: { latencyMs: () => 5_000, failRate: () => 1 } });
    const started = performance.now();
    expect((await app.inject({ method: 'GET', url: '/livez' })).statusCode).toBe(200);
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    expect(performance.now() - started).toBeLessThan(1_000);
  });
});

describe('health and metrics', () => {
  it('when the process is up, then /livez answers ok', async () => {
    const response = await build().inject({ method: 'GET', url: '/livez' });
    expect(response.statusCode).toBe(200);
    expect(response.json()).toEqual({ status: 'ok' });
  });

  it('when the process is draining, then /readyz answers 503; otherwise 200', async () => {
    let draining = false;
    const app = build({ isDraining: () => draining });
    expect((await app.inject({ method: 'GET', url: '/readyz' })).statusCode).toBe(200);
    draining = true;
    const response = await app.inject({ method: 'GET', url: '/readyz' });
    expect(response.statusCode).toBe(503);
    expect(response.json().status).toBe('draining');
  });

  it('when a registry is given, then /metrics serves the moderation counters', async () => {
    const registry = new Registry();
    const app = build({ registry });
    await moderate(app, { input: 'I am going to kill you' });
    await moderate(app, { input: 'hello' });
    const response = await app.inject({ method: 'GET', url: '/metrics' });
    expect(response.statusCode).toBe(200);
    expect(response.body).toContain('airlock_moderation_results_total{result="flagged"} 1');
    expect(response.body).toContain('airlock_moderation_results_total{result="clean"} 1');
    expect(response.body).toContain('airlock_moderation_flags_total{category="harassment/threatening"} 1');
    expect(response.body).toContain('airlock_moderation_classify_duration_seconds_count 2');
  });

  it('when two apps share one registry, then building the second does not fail on duplicate metrics', async () => {
    const registry = new Registry();
    build({ registry });
    expect(() => build({ registry })).not.toThrow();
  });

  it('when no registry is given, then there is no /metrics route', async () => {
    expect((await build().inject({ method: 'GET', url: '/metrics' })).statusCode).toBe(404);
  });

  it('when requests complete, then observeRequest sees the route pattern and status', async () => {
    const seen: [string, string, number][] = [];
    const app = build({ observeRequest: (route, method, status) => seen.push([route, method, status]) });
    await moderate(app, { input: 'hello' });
    expect(seen).toEqual([['/v1/moderate', 'POST', 200]]);
  });
});
