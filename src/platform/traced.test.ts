import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import Fastify, { type FastifyBaseLogger } from 'fastify';
import { SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import type { Pool } from './db.ts';
import { NotFoundError } from './errors.ts';
import { createTelemetry, type Telemetry } from './telemetry.ts';
import { summarizeSql, tracePool, traceRequests, withRedisSpan, withSpan } from './traced.ts';

const open: Telemetry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

function start() {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({
    enabled: true,
    serviceName: 'airlock',
    serviceVersion: '0.0.0',
    role: 'api',
    sampleRatio: 1,
    exporter,
  });
  open.push(telemetry);
  return { telemetry, tracer: telemetry.tracer, exporter };
}

const byName = (spans: ReadableSpan[], name: string) => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span named ${name}; got ${spans.map((s) => s.name).join(', ')}`);
  return span;
};

// Stands in for pg: records what reached the driver and who `this` was.
function fakePool(fail?: Error) {
  const calls: Array<{ text: unknown; values: unknown; self: unknown }> = [];
  const client = {
    released: 0,
    query(text: unknown, values?: unknown) {
      calls.push({ text, values, self: this });
      return fail ? Promise.reject(fail) : Promise.resolve({ rows: [{ ok: true }] });
    },
    release() {
      this.released += 1;
    },
  };
  const pool = {
    totalCount: 3,
    query(text: unknown, values?: unknown, callback?: unknown) {
      calls.push({ text, values, self: this });
      if (typeof callback === 'function') {
        (callback as (err: null, res: unknown) => void)(null, { rows: [] });
        return undefined;
      }
      return fail ? Promise.reject(fail) : Promise.resolve({ rows: [{ ok: true }] });
    },
    connect: async () => client,
  };
  return { pool: pool as unknown as Pool, raw: pool, client, calls };
}

describe('summarizeSql', () => {
  it.each([
    [
      'INSERT INTO outbox (tenant_id, action_id, topic, payload, trace_context) VALUES ($1, $2, $3, $4, $5) RETURNING id',
      'INSERT outbox',
    ],
    [
      `SELECT id, tenant_id AS "tenantId" FROM outbox WHERE published_at IS NULL ORDER BY id LIMIT $1 FOR UPDATE SKIP LOCKED`,
      'SELECT outbox',
    ],
    ['UPDATE outbox SET published_at = now() WHERE id = ANY($1::bigint[])', 'UPDATE outbox'],
    [
      `SELECT count(*)::int AS pending, extract(epoch FROM now() - min(created_at))::float8 AS oldest
         FROM actions WHERE status = 'pending_review'`,
      'SELECT actions',
    ],
    ['DELETE FROM idempotency_keys WHERE tenant_id = $1 AND key = $2', 'DELETE idempotency_keys'],
    [
      'INSERT INTO effects (id) VALUES ($1) ON CONFLICT (id) DO UPDATE SET id = excluded.id',
      'INSERT effects',
    ],
    ['SELECT * FROM "public"."Actions" a JOIN tenants t ON t.id = a.tenant_id', 'SELECT public.Actions'],
    ['SELECT pg_notify($1, $2)', 'SELECT'],
    [`SELECT set_config('statement_timeout', $1, true)`, 'SELECT'],
    ['BEGIN', 'BEGIN'],
    ['  commit', 'COMMIT'],
    ['SELECT 1', 'SELECT'],
    ['bogus statement', 'QUERY'],
  ])('when summarising %s, then the summary is %s', (sql, summary) => {
    expect(summarizeSql(sql).summary).toBe(summary);
  });

  it.each([
    `SELECT 'mail from alice_secret' AS note`,
    `SELECT E'it\\'s from alice_secret' AS note`,
    'SELECT $body$ from alice_secret $body$ AS note',
    'SELECT 1 -- from alice_secret',
    'SELECT 1 /* from alice_secret */',
  ])(
    'when a literal or comment mentions FROM, then nothing from inside it reaches the summary: %s',
    (sql) => {
      expect(summarizeSql(sql).summary).toBe('SELECT');
    },
  );
});

describe('tracePool', () => {
  it('when a query runs, then a client span named after its summary is exported without the values', async () => {
    const { tracer, exporter } = start();
    const { pool, raw, calls } = fakePool();

    const result = await withSpan(tracer, 'actions.list', {}, () =>
      tracePool(pool, tracer).query('SELECT * FROM actions WHERE user_id = $1', ['bob@example.com']),
    );

    expect(result.rows).toEqual([{ ok: true }]);
    expect(calls).toEqual([
      { text: 'SELECT * FROM actions WHERE user_id = $1', values: ['bob@example.com'], self: raw },
    ]);
    const span = byName(exporter.getFinishedSpans(), 'SELECT actions');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toEqual({
      'db.system.name': 'postgresql',
      'db.query.summary': 'SELECT actions',
      'db.operation.name': 'SELECT',
      'db.collection.name': 'actions',
    });
  });

  it('when a transaction client comes from connect, then its queries are children of the active span and release reaches the real client', async () => {
    const { tracer, exporter } = start();
    const { pool, client } = fakePool();
    const traced = tracePool(pool, tracer);

    await withSpan(tracer, 'actions.propose', {}, async () => {
      const tx = await traced.connect();
      await tx.query('BEGIN');
      await tx.query('INSERT INTO actions (id) VALUES ($1)', ['a1']);
      await tx.query('COMMIT');
      tx.release();
    });

    const spans = exporter.getFinishedSpans();
    const parent = byName(spans, 'actions.propose').spanContext().spanId;
    expect(spans.map((s) => s.name)).toEqual(['BEGIN', 'INSERT actions', 'COMMIT', 'actions.propose']);
    for (const name of ['BEGIN', 'INSERT actions', 'COMMIT'])
      expect(byName(spans, name).parentSpanContext?.spanId).toBe(parent);
    expect(client.released).toBe(1);
  });

  it('when the pool is wrapped, then its other members still read the real pool', () => {
    const { tracer } = start();
    const { pool } = fakePool();

    expect(tracePool(pool, tracer).totalCount).toBe(3);
  });

  it('when a query fails, then the span is ERROR with the SQLSTATE only, never the driver message', async () => {
    const { tracer, exporter } = start();
    const failure = Object.assign(new Error('invalid input syntax for type uuid: "bob@example.com"'), {
      code: '22P02',
    });
    const { pool } = fakePool(failure);

    await expect(
      withSpan(tracer, 'actions.get', {}, () =>
        tracePool(pool, tracer).query('SELECT * FROM actions WHERE id = $1', ['x']),
      ),
    ).rejects.toBe(failure);

    const span = byName(exporter.getFinishedSpans(), 'SELECT actions');
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR });
    expect(span?.attributes['db.response.status_code']).toBe('22P02');
    expect(span?.attributes['error.type']).toBe('22P02');
    expect(span?.events).toEqual([]);
  });

  it('when a socket error breaks a query, then it is not reported as a SQLSTATE', async () => {
    const { tracer, exporter } = start();
    const { pool } = fakePool(Object.assign(new Error('write EPIPE'), { code: 'EPIPE' }));

    await expect(
      withSpan(tracer, 'job.execute', {}, () => tracePool(pool, tracer).query('SELECT 1')),
    ).rejects.toThrow('EPIPE');

    const span = byName(exporter.getFinishedSpans(), 'SELECT');
    expect(span?.attributes['error.type']).toBe('EPIPE');
    expect(span?.attributes).not.toHaveProperty('db.response.status_code');
  });

  it('when a query runs outside any span, then it passes through untraced', async () => {
    const { tracer, exporter } = start();
    const { pool, calls } = fakePool();

    await tracePool(pool, tracer).query('SELECT count(*) FROM outbox');

    expect(calls).toHaveLength(1);
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('when a query uses a callback, then it passes through untraced', async () => {
    const { tracer, exporter } = start();
    const { pool, calls } = fakePool();
    let answered = false;

    await withSpan(tracer, 'outer', {}, () =>
      (tracePool(pool, tracer).query as unknown as (t: string, v: unknown[], cb: () => void) => void)(
        'SELECT 1',
        [],
        () => {
          answered = true;
        },
      ),
    );

    expect(answered).toBe(true);
    expect(calls).toHaveLength(1);
    expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['outer']);
  });
});

describe('withRedisSpan', () => {
  it('when a command succeeds, then a client span named after it is exported without keys', async () => {
    const { tracer, exporter } = start();

    const value = await withSpan(tracer, 'actions.get', {}, () =>
      withRedisSpan(tracer, 'GET', async () => 'cached'),
    );

    expect(value).toBe('cached');
    const span = byName(exporter.getFinishedSpans(), 'GET');
    expect(span?.kind).toBe(SpanKind.CLIENT);
    expect(span?.attributes).toEqual({ 'db.system.name': 'redis', 'db.operation.name': 'GET' });
  });

  it('when a command times out, then the span is ERROR with the error name and the error propagates', async () => {
    const { tracer, exporter } = start();
    const timeout = Object.assign(new Error('Command timed out'), { name: 'TimeoutError' });

    await expect(
      withSpan(tracer, 'rate-limit', {}, () =>
        withRedisSpan(tracer, 'EVALSHA', () => Promise.reject(timeout)),
      ),
    ).rejects.toBe(timeout);

    const span = byName(exporter.getFinishedSpans(), 'EVALSHA');
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('TimeoutError');
  });

  it('when no span is active, then the command runs without a span', async () => {
    const { tracer, exporter } = start();

    expect(await withRedisSpan(tracer, 'GET', async () => 'cached')).toBe('cached');
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });
});

describe('traceRequests', () => {
  async function buildApp(telemetry: Telemetry, logs?: Array<Record<string, unknown>>) {
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        logs?.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const app = Fastify({
      loggerInstance: pino({ mixin: () => telemetry.logMixin() }, destination) as FastifyBaseLogger,
      disableRequestLogging: true,
    });
    traceRequests(app, telemetry.tracer);
    let guardSawSpan = false;
    app.post(
      '/things/:id',
      {
        onRequest: async () => {
          guardSawSpan = trace.getActiveSpan() !== undefined;
        },
      },
      async (request) => {
        await new Promise((resolve) => setTimeout(resolve, 1));
        request.log.info('handling');
        return withSpan(telemetry.tracer, 'decide', {}, async () => ({ ok: true }));
      },
    );
    app.get('/boom', async () => {
      throw new Error('database exploded');
    });
    app.get('/bad', async () => {
      throw Object.assign(new Error('bad input'), { statusCode: 400 });
    });
    app.get('/missing', async () => {
      throw new NotFoundError('thing');
    });
    // Stands in for app.ts's problem handler, which answers AppErrors with their status.
    app.setErrorHandler((error, _request, reply) => {
      const { status, statusCode } = error as { status?: number; statusCode?: number };
      return reply.code(status ?? statusCode ?? 500).send({ error: 'x' });
    });
    await app.ready();
    return { app, guardSawSpan: () => guardSawSpan };
  }

  it('when a request is handled, then one server span per request parents the route hooks, the handler spans and the log lines', async () => {
    const { telemetry, exporter } = start();
    const logs: Array<Record<string, unknown>> = [];
    const { app, guardSawSpan } = await buildApp(telemetry, logs);

    const response = await app.inject({ method: 'POST', url: '/things/42', payload: { note: 'x' } });

    expect(response.statusCode).toBe(200);
    const spans = exporter.getFinishedSpans();
    const server = byName(spans, 'POST /things/:id');
    expect(server.kind).toBe(SpanKind.SERVER);
    expect(server.attributes).toMatchObject({
      'http.request.method': 'POST',
      'http.route': '/things/:id',
      'http.response.status_code': 200,
    });
    expect(server.status.code).toBe(SpanStatusCode.UNSET);
    expect(byName(spans, 'decide').parentSpanContext?.spanId).toBe(server.spanContext().spanId);
    expect(guardSawSpan()).toBe(true);
    expect(logs.find((l) => l.msg === 'handling')).toMatchObject({ trace_id: server.spanContext().traceId });
    await app.close();
  });

  it('when a handler fails with a 500, then the server span is ERROR with the exception', async () => {
    const { telemetry, exporter } = start();
    const { app } = await buildApp(telemetry);

    const response = await app.inject({ method: 'GET', url: '/boom' });

    expect(response.statusCode).toBe(500);
    const span = byName(exporter.getFinishedSpans(), 'GET /boom');
    expect(span.status.code).toBe(SpanStatusCode.ERROR);
    expect(span.attributes['error.type']).toBe('500');
    expect(span.events.map((e) => e.name)).toEqual(['exception']);
    await app.close();
  });

  it('when a request is a client error or hits no route, then the span is not an error', async () => {
    const { telemetry, exporter } = start();
    const { app } = await buildApp(telemetry);

    await app.inject({ method: 'GET', url: '/bad' });
    await app.inject({ method: 'GET', url: '/missing' });
    await app.inject({ method: 'GET', url: '/nowhere/123' });

    const spans = exporter.getFinishedSpans();
    expect(spans.map((s) => [s.name, s.attributes['http.response.status_code'], s.status.code])).toEqual([
      ['GET /bad', 400, SpanStatusCode.UNSET],
      ['GET /missing', 404, SpanStatusCode.UNSET],
      ['GET', 404, SpanStatusCode.UNSET],
    ]);
    expect(spans.flatMap((s) => s.events)).toEqual([]);
    await app.close();
  });

  it('when a client sends a traceparent, then it is ignored and the request starts its own trace', async () => {
    const { telemetry, exporter } = start();
    const { app } = await buildApp(telemetry);
    const foreign = 'a'.repeat(32);

    await app.inject({
      method: 'GET',
      url: '/bad',
      headers: { traceparent: `00-${foreign}-${'b'.repeat(16)}-01` },
    });

    const [span] = exporter.getFinishedSpans();
    expect(span?.spanContext().traceId).not.toBe(foreign);
    expect(span?.parentSpanContext).toBeUndefined();
    await app.close();
  });
});
