import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redactText } from '../src/modules/safety/redaction.ts';
import { createTelemetry, type Telemetry } from '../src/platform/telemetry.ts';
import { createLogCapture, waitFor } from './helpers/test-env.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// Tracing end to end on the real stack: one trace from the HTTP request through the
// decision stages and the database, across the outbox row and the BullMQ job, into the
// worker; log lines that carry the trace; and redaction on the export path.

const STAGES = [
  'tool_default',
  'kill_switch',
  'rollout_gate',
  'user_reports',
  'ssrf',
  'prompt_injection',
  'provenance',
  'secret_detection',
  'moderation',
];

// What a failing dependency might put in an error message: personal data and a credential.
const LEAKED_EMAIL = 'ops.lead@partner-example.org';
const LEAKED_KEY = 'AKIAQ7ZK3M4N5P6R2T8W';

const TRACEPARENT = /^00-([0-9a-f]{32})-([0-9a-f]{16})-01$/;

describe('tracing across the request, the outbox and the worker', () => {
  let telemetry: Telemetry | undefined;
  const exporter = new InMemorySpanExporter();
  const logs = createLogCapture();
  const { stack, api, ids } = useTestStack(
    () => {
      telemetry = createTelemetry({
        enabled: true,
        exporter,
        serviceName: 'airlock',
        serviceVersion: 'test',
        role: 'all',
        sampleRatio: 1,
        redact: (value) => redactText(value),
      });
      return {
        worker: true,
        telemetry,
        logDestination: logs.destination,
        env: { LOG_LEVEL: 'info', WORKER_MAX_ATTEMPTS: '1' },
        resolveHost: async (host) => {
          if (host === 'leaky.test')
            throw new Error(`resolver for ${LEAKED_EMAIL} rejected credentials ${LEAKED_KEY}`);
          throw new Error(`no test address for ${host}`);
        },
      };
    },
    { agent: ['acme', 'agent'], admin: ['acme', 'admin'] },
  );
  const { agent } = ids;

  beforeAll(async () => {
    await api.setPolicy(ids.admin.key, {
      fetch_allowed_hosts: ['leaky.test'],
      rate_limit_per_user_per_minute: 600,
    });
  });
  afterAll(async () => {
    await stack.close();
    await telemetry?.shutdown();
  });

  const propose = (body: object) => api.propose(agent.key, body);
  const settled = (id: string, status: string) =>
    waitFor(
      async () => {
        const current = await api.read(agent.key, id);
        return current.status === status ? current : undefined;
      },
      { what: `action ${id} to be ${status}` },
    );

  // The spans of one proposal: its server span (found by request id), and every span of
  // that trace once the worker's job span has ended.
  async function traceOf(requestId: string) {
    const server = await waitFor(
      async () =>
        exporter
          .getFinishedSpans()
          .find((s) => s.name === 'POST /v1/actions' && s.attributes['airlock.request_id'] === requestId),
      { what: 'the server span' },
    );
    const traceId = server.spanContext().traceId;
    const inTrace = () => exporter.getFinishedSpans().filter((s) => s.spanContext().traceId === traceId);
    const job = await waitFor(async () => inTrace().find((s) => s.name === 'job.execute'), {
      what: 'the job.execute span',
    });
    await exporter.forceFlush();
    return { server, job, spans: inTrace() };
  }

  const parentId = (span: ReadableSpan) => span.parentSpanContext?.spanId;

  it('when a notes.create is proposed and executed, then the request, auth, decision stages, queries and the job share one trace', async () => {
    const response = await propose({
      tool: 'notes.create',
      arguments: { title: 'traced', body: 'one trace, end to end' },
      user_id: 'user-1',
    });
    expect(response.statusCode).toBe(201);
    const action = response.json();
    await settled(action.id, 'succeeded');

    const { server, job, spans } = await traceOf(String(response.headers['x-request-id']));
    const traceId = server.spanContext().traceId;
    const names = spans.map((s) => s.name);

    // The server span is the root: clients cannot choose our trace.
    expect(server.parentSpanContext).toBeUndefined();
    const auth = spans.find((s) => s.name === 'auth');
    expect(auth, `spans: ${names.join(', ')}`).toBeDefined();
    expect(parentId(auth!)).toBe(server.spanContext().spanId);
    for (const stage of STAGES) expect(names).toContain(`decide ${stage}`);

    const queries = spans.filter((s) => s.attributes['db.system.name'] === 'postgresql');
    const queryNames = queries.map((s) => s.name);
    // The request writes the action, its outbox row and its idempotency completion in one
    // statement (recordProposal); the worker writes the note.
    expect(queryNames).toEqual(expect.arrayContaining(['WITH actions', 'INSERT sandbox_notes']));
    for (const span of [auth!, ...queries, job]) expect(span.spanContext().traceId).toBe(traceId);

    expect(job.attributes['airlock.attempt']).toBe(1);
    expect(job.attributes['airlock.max_attempts']).toBe(1);
  });

  it('when the job runs, then its parent is the span named by the carrier in the outbox row, and its ancestry ends at the request span', async () => {
    const response = await propose({
      tool: 'notes.create',
      arguments: { title: 'carried', body: 'through the outbox' },
      user_id: 'user-1',
    });
    const action = response.json();
    await settled(action.id, 'succeeded');
    const { server, job, spans } = await traceOf(String(response.headers['x-request-id']));

    const { rows } = await stack.container.pool.query<{ trace_context: Record<string, string> | null }>(
      'SELECT trace_context FROM outbox WHERE action_id = $1',
      [action.id],
    );
    expect(rows).toHaveLength(1);
    const carried = TRACEPARENT.exec(rows[0]!.trace_context?.traceparent ?? '');
    expect(carried, 'a W3C traceparent in the outbox row').not.toBeNull();
    expect(carried![1]).toBe(server.spanContext().traceId);

    expect(job.parentSpanContext?.isRemote).toBe(true);
    expect(parentId(job)).toBe(carried![2]);

    const byId = new Map(spans.map((s) => [s.spanContext().spanId, s]));
    const chain: string[] = [];
    let current: ReadableSpan | undefined = job;
    // Bounded: a trace this small is never deeper than a handful of levels.
    for (let depth = 0; current && depth < 16; depth++) {
      chain.push(current.name);
      const parent = parentId(current);
      current = parent ? byId.get(parent) : undefined;
      if (parent) expect(current, `parent ${parent} of ${chain.at(-1)} was exported`).toBeDefined();
    }
    expect(chain.at(-1)).toBe('POST /v1/actions');
    expect(chain[0]).toBe('job.execute');
  });

  it('when requests are logged, then each access line carries the trace id of its server span', async () => {
    const response = await propose({
      tool: 'notes.create',
      arguments: { title: 'logged', body: 'with a trace id' },
      user_id: 'user-1',
    });
    const requestId = String(response.headers['x-request-id']);
    const { server, spans } = await traceOf(requestId);

    const line = logs.records().find((r) => r.msg === 'request completed' && r.req_id === requestId);
    expect(line, 'the access line of the request').toBeDefined();
    expect(line!.trace_id).toBe(server.spanContext().traceId);
    // The span current when the line was written belongs to the same trace.
    expect(spans.map((s) => s.spanContext().spanId)).toContain(line!.span_id);

    // Every access line so far (proposals, reads, policy), not only this one: trace ids are
    // random, and a check that mangles some of them must not pass by luck. Reads of this
    // action make sure there are enough lines however fast the earlier actions ran.
    for (let i = 0; i < 10; i++) await api.get(agent.key, `/v1/actions/${response.json().id}`);
    const serverSpans = new Map(
      exporter
        .getFinishedSpans()
        .filter((s) => s.parentSpanContext === undefined && s.attributes['airlock.request_id'])
        .map((s) => [String(s.attributes['airlock.request_id']), s.spanContext().traceId]),
    );
    const accessLines = logs.records().filter((r) => r.msg === 'request completed');
    expect(accessLines.length).toBeGreaterThanOrEqual(10);
    for (const access of accessLines) expect(access.trace_id).toBe(serverSpans.get(String(access.req_id)));
  });

  it('when an exception message carries an email and a secret, then the exported spans hold neither and show the masks', async () => {
    const response = await propose({
      tool: 'http.fetch',
      arguments: { url: 'http://leaky.test/status' },
      user_id: 'user-1',
    });
    expect(response.statusCode).toBe(201);
    const action = response.json();
    expect(action.decision.outcome, JSON.stringify(action.decision.reasons)).toBe('allow');
    const failed = await settled(action.id, 'failed');
    expect(failed.error!.code).toBe('dns_failure');

    const { job, spans } = await traceOf(String(response.headers['x-request-id']));
    const exported = JSON.stringify(
      spans.map((s) => ({ attributes: s.attributes, events: s.events, status: s.status })),
    );
    expect(exported).not.toContain(LEAKED_EMAIL);
    expect(exported).not.toContain(LEAKED_KEY);

    const exception = job.events.find((e) => e.name === 'exception');
    const message = String(exception?.attributes?.['exception.message']);
    expect(message).toContain('[REDACTED_EMAIL]');
    expect(message).toContain('[REDACTED_SECRET]');
    expect(job.status.message).toContain('[REDACTED_SECRET]');
  });
});
