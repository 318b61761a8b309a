import { setTimeout as sleep } from 'node:timers/promises';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../platform/logger.ts';
import { buildModerationApp } from './moderation-app.ts';
import type { ModerationFaults } from './moderation-app.ts';
import { createModerationClassifier } from './moderation-classifier.ts';
import { ModerationUnavailableError, createModerationClient } from './moderation-client.ts';
import type { ModerationBreakerState, ModerationCallOutcome, ModerationClient } from './moderation-client.ts';

// The client against the real moderation service on 127.0.0.1: the faults are real too
// (a closed listener, a slow handler, error answers), not a mocked fetch. No database is
// involved; the file is an integration test because it opens sockets.

const logger = createLogger({ level: 'silent' });
const classifier = createModerationClassifier();
const RESET_TIMEOUT_MS = 400;

type App = ReturnType<typeof buildModerationApp>;

const started: App[] = [];
const clients: ModerationClient[] = [];

afterEach(async () => {
  await Promise.all(clients.splice(0).map((client) => client.close()));
  await Promise.all(started.splice(0).map((app) => app.close()));
});

interface Service {
  app: App;
  port: number;
  requests: () => number;
}

// A moderation service counting the moderation requests that reach it.
const startService = async (port = 0, faults?: ModerationFaults): Promise<Service> => {
  let count = 0;
  const app = buildModerationApp({ logger, classifier, faults });
  app.addHook('onRequest', async (request) => {
    if (request.url === '/v1/moderate') count += 1;
  });
  started.push(app);
  await app.listen({ host: '127.0.0.1', port });
  return { app, port: (app.server.address() as AddressInfo).port, requests: () => count };
};

const kill = async (service: Service): Promise<void> => {
  started.splice(started.indexOf(service.app), 1);
  await service.app.close();
};

const newClient = (port: number, overrides: { timeoutMs?: number } = {}) => {
  const states: ModerationBreakerState[] = [];
  const calls: ModerationCallOutcome[] = [];
  const client = createModerationClient({
    baseUrl: `http://127.0.0.1:${port}`,
    timeoutMs: overrides.timeoutMs ?? 1_000,
    breaker: {
      errorThresholdPercentage: 50,
      resetTimeoutMs: RESET_TIMEOUT_MS,
      volumeThreshold: 3,
      rollingCountTimeoutMs: 10_000,
    },
    logger,
    onStateChange: (state) => states.push(state),
    observeCall: (outcome) => calls.push(outcome),
  });
  clients.push(client);
  return { client, states, calls };
};

const failure = async (promise: Promise<unknown>): Promise<unknown> =>
  promise.then(
    () => {
      throw new Error('expected the call to fail');
    },
    (err: unknown) => err,
  );

describe('createModerationClient', () => {
  it('when the service is healthy, then moderate returns its verdict and the breaker stays closed', async () => {
    const service = await startService();
    const { client, calls } = newClient(service.port);

    const harmful = await client.moderate('I am going to kill you');
    const benign = await client.moderate('please restart the worker');

    expect(harmful.flagged).toBe(true);
    expect(harmful.categories['harassment/threatening']).toBe(true);
    expect(benign.flagged).toBe(false);
    expect(client.state()).toBe('closed');
    expect(calls).toEqual(['success', 'success']);
    expect(service.requests()).toBe(2);
  });

  it('when the service dies, then calls fail, the breaker opens, and open-breaker calls fail fast without reaching the service; when it returns, the breaker half-opens and then closes', async () => {
    const first = await startService();
    const port = first.port;
    const { client, states, calls } = newClient(port);
    expect((await client.moderate('hello')).flagged).toBe(false);

    await kill(first);
    for (let attempt = 0; attempt < 3; attempt += 1) {
      const err = await failure(client.moderate('hello'));
      expect(err).toBeInstanceOf(ModerationUnavailableError);
      expect(err).toMatchObject({ code: 'moderation_unavailable', status: 503 });
    }
    expect(client.state()).toBe('open');
    expect(states).toEqual(['open']);

    // The service is back on the same address, but the breaker has not probed it yet.
    const second = await startService(port);
    const before = performance.now();
    const rejected = await failure(client.moderate('hello'));
    expect(performance.now() - before).toBeLessThan(50);
    expect(rejected).toBeInstanceOf(ModerationUnavailableError);
    expect((rejected as Error).message).toMatch(/circuit breaker is open/);
    expect(second.requests()).toBe(0);
    expect(calls.slice(-1)).toEqual(['rejected']);

    await sleep(RESET_TIMEOUT_MS + 100);
    expect(client.state()).toBe('half_open');

    expect((await client.moderate('I will kill you')).flagged).toBe(true);
    expect(second.requests()).toBe(1);
    expect(client.state()).toBe('closed');
    expect(states).toEqual(['open', 'half_open', 'closed']);
  });

  it('when the half-open probe fails, then the breaker opens again', async () => {
    const service = await startService();
    const { client, states } = newClient(service.port);
    await kill(service);
    for (let attempt = 0; attempt < 3; attempt += 1) await failure(client.moderate('hello'));
    expect(client.state()).toBe('open');

    await sleep(RESET_TIMEOUT_MS + 100);
    expect(client.state()).toBe('half_open');
    expect(await failure(client.moderate('hello'))).toBeInstanceOf(ModerationUnavailableError);

    expect(client.state()).toBe('open');
    expect(states).toEqual(['open', 'half_open', 'open']);
  });

  it('when the service is slower than the timeout, then the call fails as a timeout within the budget', async () => {
    const service = await startService(0, { latencyMs: () => 1_500, failRate: () => 0 });
    const { client, calls } = newClient(service.port, { timeoutMs: 150 });

    const before = performance.now();
    const err = await failure(client.moderate('hello'));

    expect(performance.now() - before).toBeLessThan(1_000);
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect((err as Error).message).toMatch(/within 150 ms/);
    expect(calls).toEqual(['timeout']);
  });

  it('when the service answers 503, then the calls count as errors and open the breaker', async () => {
    const service = await startService(0, { latencyMs: () => 0, failRate: () => 1 });
    const { client, calls } = newClient(service.port);

    for (let attempt = 0; attempt < 3; attempt += 1) {
      expect(await failure(client.moderate('hello'))).toBeInstanceOf(ModerationUnavailableError);
    }

    expect(calls).toEqual(['error', 'error', 'error']);
    expect(client.state()).toBe('open');
  });

  it('when the service rejects the request itself (400), then the call fails but does not count against its health', async () => {
    const service = await startService();
    const { client } = newClient(service.port);
    const tooLong = 'a'.repeat(100_001);

    for (let attempt = 0; attempt < 4; attempt += 1) {
      const err = await failure(client.moderate(tooLong));
      expect(err).toBeInstanceOf(ModerationUnavailableError);
      expect((err as Error).message).toMatch(/rejected the request with 400/);
    }

    expect(client.state()).toBe('closed');
  });

  it('when the client is closed, then later calls fail instead of reaching the service', async () => {
    const service = await startService();
    const { client } = newClient(service.port);
    clients.splice(clients.indexOf(client), 1);
    await client.close();

    const err = await failure(client.moderate('hello'));
    expect(err).toBeInstanceOf(ModerationUnavailableError);
    expect((err as Error).message).toMatch(/client is closed/);
    expect(service.requests()).toBe(0);
  });
});
