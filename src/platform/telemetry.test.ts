import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { ROOT_CONTEXT, SpanStatusCode, context, createContextKey, trace } from '@opentelemetry/api';
import { ExportResultCode } from '@opentelemetry/core';
import {
  InMemorySpanExporter,
  SimpleSpanProcessor,
  TracerProvider,
  type ReadableSpan,
  type SpanExporter,
} from '@opentelemetry/sdk-trace';
import { pino } from 'pino';
import { createTelemetry, type Telemetry, type TelemetryOptions } from './telemetry.ts';
import { setSafeAttributes, withSpan } from './traced.ts';

const maskEmails = (value: string) => value.replace(/\S+@\S+/g, '[REDACTED]');
const TRACEPARENT = /^00-[0-9a-f]{32}-[0-9a-f]{16}-0[01]$/;

const open: Telemetry[] = [];
afterEach(async () => {
  await Promise.all(open.splice(0).map((t) => t.shutdown()));
});

function start(options: Partial<TelemetryOptions> = {}) {
  const exporter = new InMemorySpanExporter();
  const telemetry = createTelemetry({
    enabled: true,
    serviceName: 'airlock',
    serviceVersion: '1.2.3',
    role: 'api',
    sampleRatio: 1,
    exporter,
    ...options,
  });
  open.push(telemetry);
  return { telemetry, tracer: telemetry.tracer, exporter };
}

const byName = (spans: ReadableSpan[], name: string) => {
  const span = spans.find((s) => s.name === name);
  if (!span) throw new Error(`no span named ${name}; got ${spans.map((s) => s.name).join(', ')}`);
  return span;
};

// Simulates the API -> outbox row -> relay -> BullMQ job -> worker hop: the carrier only
// survives as JSON text.
const throughStorage = (carrier: Record<string, string> | null) =>
  (JSON.parse(JSON.stringify({ trace_context: carrier })) as { trace_context?: Record<string, string> })
    .trace_context;

describe('createTelemetry', () => {
  it('when a span ends, then it is exported with the service, version and role resource attributes', async () => {
    const { tracer, exporter } = start({ role: 'worker' });

    await withSpan(tracer, 'job.execute', { 'airlock.attempt': 2 }, async () => undefined);

    const [span] = exporter.getFinishedSpans();
    expect(span?.name).toBe('job.execute');
    expect(span?.attributes['airlock.attempt']).toBe(2);
    expect(span?.resource.attributes).toMatchObject({
      'service.name': 'airlock',
      'service.version': '1.2.3',
      'airlock.role': 'worker',
    });
    expect(span?.resource.attributes['service.instance.id']).toEqual(expect.any(String));
  });

  it('when the carrier is stored as JSON and extracted in the worker, then the job span joins the request trace under the request span', async () => {
    const { telemetry, tracer, exporter } = start();

    let stored: string | undefined;
    await withSpan(tracer, 'POST /v1/actions', {}, async () => {
      stored = JSON.stringify({ trace_context: telemetry.injectContext() });
    });
    // Later, in another process: no context is active any more.
    expect(trace.getActiveSpan()).toBeUndefined();
    const job = JSON.parse(stored!) as { trace_context?: Record<string, string> };
    await telemetry.withExtractedContext(job.trace_context, () =>
      withSpan(tracer, 'job.execute', {}, async () => undefined),
    );

    const spans = exporter.getFinishedSpans();
    const request = byName(spans, 'POST /v1/actions');
    const execute = byName(spans, 'job.execute');
    expect(job.trace_context?.traceparent).toMatch(TRACEPARENT);
    expect(execute.spanContext().traceId).toBe(request.spanContext().traceId);
    expect(execute.parentSpanContext?.spanId).toBe(request.spanContext().spanId);
    expect(execute.parentSpanContext?.isRemote).toBe(true);
  });

  it('when spans nest across awaits, then the inner span is the child of the outer one', async () => {
    const { tracer, exporter } = start();

    await withSpan(tracer, 'outer', {}, async () => {
      await new Promise((resolve) => setTimeout(resolve, 1));
      await withSpan(tracer, 'inner', {}, async () => undefined);
    });

    const spans = exporter.getFinishedSpans();
    expect(byName(spans, 'inner').parentSpanContext?.spanId).toBe(
      byName(spans, 'outer').spanContext().spanId,
    );
  });

  it('when no span is active, then injectContext returns null', () => {
    const { telemetry } = start();

    expect(telemetry.injectContext()).toBeNull();
  });

  it.each([
    ['undefined', undefined],
    ['an empty object', {}],
    ['a malformed traceparent', { traceparent: 'not-a-traceparent' }],
    ['a non-string traceparent', { traceparent: 42 } as unknown as Record<string, string>],
  ])(
    'when the stored carrier is %s, then the job still runs and starts a new trace',
    async (_label, carrier) => {
      const { telemetry, tracer, exporter } = start();

      const result = await telemetry.withExtractedContext(carrier, () =>
        withSpan(tracer, 'job.execute', {}, async () => 'ran'),
      );

      expect(result).toBe('ran');
      const [span] = exporter.getFinishedSpans();
      expect(span?.name).toBe('job.execute');
      expect(span?.parentSpanContext).toBeUndefined();
    },
  );

  it('when the function throws, then the span is ended with ERROR status and the exception, and the error propagates', async () => {
    const { tracer, exporter } = start();
    const failure = Object.assign(new Error('tool timed out'), { code: 'tool_timeout' });

    await expect(
      withSpan(tracer, 'tool.execute', {}, async () => {
        throw failure;
      }),
    ).rejects.toBe(failure);

    const [span] = exporter.getFinishedSpans();
    expect(span?.ended).toBe(true);
    expect(span?.status).toEqual({ code: SpanStatusCode.ERROR, message: 'tool timed out' });
    expect(span?.attributes['error.type']).toBe('tool_timeout');
    expect(span?.events.map((e) => e.name)).toEqual(['exception']);
    expect(span?.events[0]?.attributes?.['exception.message']).toBe('tool timed out');
  });

  it('when a synchronous function throws, then the span still records the error and ends', async () => {
    const { tracer, exporter } = start();

    await expect(
      withSpan(tracer, 'decide', {}, () => {
        throw new TypeError('boom');
      }),
    ).rejects.toThrow('boom');

    const [span] = exporter.getFinishedSpans();
    expect(span?.status.code).toBe(SpanStatusCode.ERROR);
    expect(span?.attributes['error.type']).toBe('TypeError');
  });

  it('when attributes carry emails, then setSafeAttributes exports them redacted and leaves other values alone', async () => {
    // No exporter-level redactor here: this checks the helper on its own.
    const { tracer, exporter } = start();

    await withSpan(tracer, 'moderation.check', {}, async (span) => {
      setSafeAttributes(
        span,
        {
          'airlock.user_note': 'please mail bob@example.com today',
          'airlock.recipients': ['a@example.com', 'ops team'],
          'airlock.risk_score': 70,
          'airlock.flagged': true,
        },
        maskEmails,
      );
    });

    const [span] = exporter.getFinishedSpans();
    expect(span?.attributes).toMatchObject({
      'airlock.user_note': 'please mail [REDACTED] today',
      'airlock.recipients': ['[REDACTED]', 'ops team'],
      'airlock.risk_score': 70,
      'airlock.flagged': true,
    });
  });

  it('when code bypasses setSafeAttributes or an exception quotes an email, then the exporter still redacts it', async () => {
    const { tracer, exporter } = start({ redact: maskEmails });

    await expect(
      withSpan(tracer, 'email.send', {}, async (span) => {
        span.setAttribute('airlock.raw', 'carol@example.com');
        throw new Error('mailbox dave@example.com is full');
      }),
    ).rejects.toThrow();

    const [span] = exporter.getFinishedSpans();
    const exported = JSON.stringify({
      attributes: span?.attributes,
      events: span?.events,
      status: span?.status,
    });
    expect(exported).not.toMatch(/@example\.com/);
    expect(span?.attributes['airlock.raw']).toBe('[REDACTED]');
    expect(span?.status.message).toBe('mailbox [REDACTED] is full');
    expect(span?.events[0]?.attributes?.['exception.message']).toBe('mailbox [REDACTED] is full');
  });

  it('when sampleRatio is 0, then nothing is recorded but the trace id still reaches the worker and the logs', async () => {
    const { telemetry, tracer, exporter } = start({ sampleRatio: 0 });

    let carrier: Record<string, string> | null = null;
    let requestTraceId = '';
    let recording = true;
    let nestedTraceId = '';
    await withSpan(tracer, 'POST /v1/actions', {}, async (span) => {
      recording = span.isRecording();
      requestTraceId = span.spanContext().traceId;
      await Promise.resolve();
      nestedTraceId = await withSpan(tracer, 'decide', {}, async (inner) => inner.spanContext().traceId);
      carrier = telemetry.injectContext();
    });
    let workerTraceId = '';
    let workerMixin = {};
    await telemetry.withExtractedContext(throughStorage(carrier), () =>
      withSpan(tracer, 'job.execute', {}, async (span) => {
        workerTraceId = span.spanContext().traceId;
        workerMixin = telemetry.logMixin();
      }),
    );

    expect(recording).toBe(false);
    // Flags 00: the worker's parent-based sampler drops the job span too.
    expect((carrier as Record<string, string> | null)?.traceparent).toMatch(
      new RegExp(`^00-${requestTraceId}-[0-9a-f]{16}-00$`),
    );
    expect(nestedTraceId).toBe(requestTraceId);
    expect(workerTraceId).toBe(requestTraceId);
    expect(workerMixin).toMatchObject({ trace_id: requestTraceId });
    expect(exporter.getFinishedSpans()).toHaveLength(0);
  });

  it('when a span is active, then logMixin returns its ids, and outside any span an empty object', async () => {
    const { telemetry, tracer } = start();

    let inside: ReturnType<Telemetry['logMixin']> = {};
    let ids = { traceId: '', spanId: '' };
    await withSpan(tracer, 'auth', {}, async (span) => {
      await Promise.resolve();
      inside = telemetry.logMixin();
      ids = span.spanContext();
    });

    expect(inside).toEqual({ trace_id: ids.traceId, span_id: ids.spanId });
    expect(telemetry.logMixin()).toEqual({});
  });

  it('when pino uses logMixin, then lines inside a span carry its ids and no line inherits the fields of another', async () => {
    const { telemetry, tracer } = start();
    const lines: Array<Record<string, unknown>> = [];
    const destination = new Writable({
      write(chunk: Buffer, _encoding, callback) {
        lines.push(JSON.parse(chunk.toString()) as Record<string, unknown>);
        callback();
      },
    });
    const logger = pino({ mixin: () => telemetry.logMixin() }, destination);

    let traceId = '';
    await withSpan(tracer, 'request', {}, async (span) => {
      traceId = span.spanContext().traceId;
      logger.child({ req_id: 'r1' }).info({ tenant: 't1' }, 'inside');
      logger.info('inside again');
    });
    logger.info('outside');
    await new Promise((resolve) => setImmediate(resolve));

    expect(lines[0]).toMatchObject({
      msg: 'inside',
      trace_id: traceId,
      span_id: expect.any(String),
      tenant: 't1',
    });
    // pino merges each line's fields into the mixin's object: a shared one would leak them.
    expect(lines[1]).toMatchObject({ msg: 'inside again', trace_id: traceId });
    expect(lines[1]).not.toHaveProperty('tenant');
    expect(lines[2]?.msg).toBe('outside');
    expect(lines[2]).not.toHaveProperty('trace_id');
  });

  it('when shut down, then the global context manager is released and a new instance can take it', async () => {
    const key = createContextKey('probe');
    const first = start();
    const propagates = () =>
      context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key));
    expect(propagates()).toBe(1);

    await first.telemetry.shutdown();
    await first.telemetry.shutdown();
    expect(propagates()).toBeUndefined();

    const second = start();
    await withSpan(second.tracer, 'outer', {}, () =>
      withSpan(second.tracer, 'inner', {}, async () => undefined),
    );
    const spans = second.exporter.getFinishedSpans();
    expect(byName(spans, 'inner').parentSpanContext?.spanId).toBe(
      byName(spans, 'outer').spanContext().spanId,
    );
  });

  it('when an export fails, then onExportError hears about it', async () => {
    const errors: Array<Error | undefined> = [];
    const failing: SpanExporter = {
      export: (_spans, done) => done({ code: ExportResultCode.FAILED, error: new Error('collector down') }),
      shutdown: async () => undefined,
    };
    const { tracer } = start({ exporter: failing, onExportError: (err) => errors.push(err) });

    await withSpan(tracer, 'anything', {}, async () => undefined);

    expect(errors.map((e) => e?.message)).toEqual(['collector down']);
  });

  it.each([-0.1, 1.5, Number.NaN])('when sampleRatio is %s, then creation fails', (sampleRatio) => {
    expect(() => start({ sampleRatio })).toThrow(/sampleRatio/);
  });

  it('when enabled without an exporter or an endpoint, then creation fails instead of guessing', () => {
    expect(() => start({ exporter: undefined })).toThrow(/no OTLP endpoint/);
  });

  it('when enabled with an endpoint, then creation succeeds without sending anything yet', async () => {
    const { telemetry } = start({ exporter: undefined, otlpEndpoint: 'http://127.0.0.1:4318' });

    expect(telemetry.enabled).toBe(true);
    await telemetry.shutdown();
  });
});

describe('createTelemetry with the standard OTEL_* settings', () => {
  it('when OTEL_RESOURCE_ATTRIBUTES are given, then they are on the resource and ours win over them', async () => {
    const { tracer, exporter } = start({
      resourceAttributes: { 'deployment.environment': 'staging', 'service.name': 'not-airlock' },
    });
    await withSpan(tracer, 'one', {}, async () => undefined);
    expect(exporter.getFinishedSpans()[0]?.resource.attributes).toMatchObject({
      'deployment.environment': 'staging',
      'service.name': 'airlock',
    });
  });

  it('when no resource detector runs, then no host, process or OS attributes are exported', async () => {
    const { tracer, exporter } = start();
    await withSpan(tracer, 'one', {}, async () => undefined);
    const keys = Object.keys(exporter.getFinishedSpans()[0]!.resource.attributes);
    expect(keys.filter((k) => /^(host|process|os)\./.test(k))).toEqual([]);
  });

  it.each([
    ['always_off', 1, 0],
    ['always_on', 0, 20],
    ['traceidratio', 0, 0],
    ['parentbased_always_on', 0, 20],
  ] as const)(
    'when the sampler is %s (ratio %s), then %s of 20 root spans are kept',
    async (sampler, ratio, kept) => {
      const { tracer, exporter } = start({ sampler, sampleRatio: ratio });
      for (let i = 0; i < 20; i++) await withSpan(tracer, `root-${i}`, {}, async () => undefined);
      expect(exporter.getFinishedSpans()).toHaveLength(kept);
    },
  );

  it('when the propagators are none, then no trace context is written into a carrier', async () => {
    const { telemetry, tracer } = start({ propagators: ['none'] });
    const carrier = await withSpan(tracer, 'one', {}, async () => telemetry.injectContext());
    expect(carrier).toBeNull();
  });
});

describe('createTelemetry when disabled', () => {
  const disabled = () =>
    createTelemetry({
      enabled: false,
      serviceName: 'airlock',
      serviceVersion: '1',
      role: 'api',
      sampleRatio: 1,
    });

  it('when spans are started, then none records, injectContext is null and logMixin is empty', async () => {
    const telemetry = disabled();

    let recording = true;
    let carrier: Record<string, string> | null = {};
    let mixin = {};
    const result = await withSpan(telemetry.tracer, 'request', {}, async (span) => {
      recording = span.isRecording();
      carrier = telemetry.injectContext();
      mixin = telemetry.logMixin();
      return telemetry.withExtractedContext(
        { traceparent: `00-${'a'.repeat(32)}-${'b'.repeat(16)}-01` },
        async () => trace.getActiveSpan()?.isRecording(),
      );
    });

    expect(telemetry.enabled).toBe(false);
    expect(recording).toBe(false);
    expect(carrier).toBeNull();
    expect(mixin).toEqual({});
    expect(result).toBeFalsy();
    await telemetry.shutdown();
  });

  it('when the function throws synchronously, then withSpan still returns a rejected promise', async () => {
    const telemetry = disabled();
    let result: Promise<unknown> | undefined;

    expect(() => {
      result = withSpan(telemetry.tracer, 'decide', {}, () => {
        throw new Error('boom');
      });
    }).not.toThrow();
    await expect(result).rejects.toThrow('boom');
  });

  it('when created, then no context manager is registered', () => {
    disabled();
    const key = createContextKey('probe');

    expect(context.with(ROOT_CONTEXT.setValue(key, 1), () => context.active().getValue(key))).toBeUndefined();
  });

  it('when someone registers a global tracer provider, then the disabled tracer still records nothing', async () => {
    const telemetry = disabled();
    const exporter = new InMemorySpanExporter();
    trace.setGlobalTracerProvider(
      new TracerProvider({ spanProcessors: [new SimpleSpanProcessor({ exporter })] }),
    );
    try {
      telemetry.tracer.startSpan('request').end();
      trace.getTracer('probe').startSpan('global').end();

      expect(exporter.getFinishedSpans().map((s) => s.name)).toEqual(['global']);
    } finally {
      trace.disable();
    }
  });
});
