import {
  ROOT_CONTEXT,
  SpanKind,
  SpanStatusCode,
  context,
  trace,
  type Attributes,
  type Span,
  type Tracer,
} from '@opentelemetry/api';
import {
  ATTR_DB_COLLECTION_NAME,
  ATTR_DB_OPERATION_NAME,
  ATTR_DB_QUERY_SUMMARY,
  ATTR_DB_RESPONSE_STATUS_CODE,
  ATTR_DB_SYSTEM_NAME,
  ATTR_ERROR_TYPE,
  ATTR_HTTP_REQUEST_METHOD,
  ATTR_HTTP_RESPONSE_STATUS_CODE,
  ATTR_HTTP_ROUTE,
  DB_SYSTEM_NAME_VALUE_POSTGRESQL,
} from '@opentelemetry/semantic-conventions';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { FastifyBaseLogger, FastifyInstance, FastifyTypeProvider, RawServerDefault } from 'fastify';
import type { Queryable } from './db.ts';
import { redactAttributeValue, type Redactor } from './telemetry.ts';

// Stable semconv has no constant for Redis yet; this is the registered value.
const DB_SYSTEM_NAME_VALUE_REDIS = 'redis';

// Runs fn inside a new active span. Attributes given here must be code-controlled (ids,
// enums, counts); anything a user typed goes through setSafeAttributes.
export function withSpan<T>(
  tracer: Tracer,
  name: string,
  attributes: Attributes,
  fn: (span: Span) => Promise<T> | T,
  options: { kind?: SpanKind } = {},
): Promise<T> {
  return tracer.startActiveSpan(name, { kind: options.kind, attributes }, (span) => {
    // Unsampled and disabled spans have nothing to end or record, so they skip the async
    // wrapper; fn still runs inside the span's context.
    if (!span.isRecording()) {
      try {
        return Promise.resolve(fn(span));
      } catch (err) {
        return Promise.reject(err);
      }
    }
    return runRecorded(span, fn);
  });
}

async function runRecorded<T>(span: Span, fn: (span: Span) => Promise<T> | T): Promise<T> {
  try {
    return await fn(span);
  } catch (err) {
    markError(span, err, { recordException: true });
    throw err;
  } finally {
    span.end();
  }
}

export function setSafeAttributes(span: Span, attributes: Attributes, redact: Redactor): void {
  if (!span.isRecording()) return;
  for (const [key, value] of Object.entries(attributes)) {
    const clean = redactAttributeValue(value, redact);
    if (clean !== undefined) span.setAttribute(key, clean);
  }
}

// One client span per Redis command under an active span (like tracePool, a lone command
// is not worth a trace). The command name must be a constant ('GET', 'EVALSHA'); keys are
// never recorded, because ours embed tenant and user ids.
export function withRedisSpan<T>(tracer: Tracer, command: string, fn: () => Promise<T>): Promise<T> {
  if (trace.getSpan(context.active()) === undefined) return fn();
  const span = tracer.startSpan(command, {
    kind: SpanKind.CLIENT,
    attributes: { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_REDIS, [ATTR_DB_OPERATION_NAME]: command },
  });
  return endClientSpan(span, fn);
}

// Wraps a pool so every promise-style query(text, values) made under an active span gets a
// client span named after its summary ("SELECT actions"); connect() hands out clients
// wrapped the same way, so the queries of withTransaction are traced too. Values and query
// text are never recorded. Queries outside any span (metrics collectors, readiness probes,
// flag refreshes, empty outbox polls) would each become a one-span trace of noise, so they
// pass through untraced, as do callback-style and submittable (cursor, stream) queries.
export function tracePool<T extends Queryable>(pool: T, tracer: Tracer): T {
  return traceQueries(pool, tracer, true);
}

function traceQueries<T extends Queryable>(target: T, tracer: Tracer, wrapConnect: boolean): T {
  const rawQuery = target.query as (...args: unknown[]) => unknown;
  const query = (...args: unknown[]): unknown => {
    const [first] = args;
    const text = typeof first === 'string' ? first : (first as { text?: unknown } | undefined)?.text;
    const untraceable =
      typeof text !== 'string' ||
      trace.getSpan(context.active()) === undefined ||
      typeof args.at(-1) === 'function' ||
      typeof (first as { submit?: unknown } | undefined)?.submit === 'function';
    if (untraceable) return rawQuery.apply(target, args);
    const span = tracer.startSpan(DB_SYSTEM_NAME_VALUE_POSTGRESQL, {
      kind: SpanKind.CLIENT,
      attributes: { [ATTR_DB_SYSTEM_NAME]: DB_SYSTEM_NAME_VALUE_POSTGRESQL },
    });
    // Unsampled spans skip the parsing.
    if (span.isRecording()) {
      const { operation, collection, summary } = summarizeSql(text);
      span.updateName(summary);
      span.setAttribute(ATTR_DB_QUERY_SUMMARY, summary);
      span.setAttribute(ATTR_DB_OPERATION_NAME, operation);
      if (collection) span.setAttribute(ATTR_DB_COLLECTION_NAME, collection);
    }
    return endClientSpan(span, () => rawQuery.apply(target, args) as Promise<unknown>, sqlState);
  };
  const rawConnect = (target as { connect?: (...args: unknown[]) => unknown }).connect;
  const connect = (...args: unknown[]): unknown => {
    if (args.length || !rawConnect) return rawConnect?.apply(target, args);
    return (rawConnect.call(target) as Promise<Queryable>).then((client) =>
      traceQueries(client, tracer, false),
    );
  };
  return new Proxy(target, {
    get(object, property) {
      if (property === 'query') return query;
      if (property === 'connect' && wrapConnect && rawConnect) return connect;
      // Everything else runs against the real pool or client, so its own state stays in one place.
      const value: unknown = Reflect.get(object, property, object);
      return typeof value === 'function' ? value.bind(object) : value;
    },
  });
}

// Postgres reports SQLSTATE codes ("23505", "57014"); socket errors ("EPIPE") are not one.
function sqlState(err: unknown): Attributes {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) && /\d/.test(code)
    ? { [ATTR_DB_RESPONSE_STATUS_CODE]: code }
    : {};
}

const OPERATIONS = new Set([
  'SELECT',
  'INSERT',
  'UPDATE',
  'DELETE',
  'MERGE',
  'WITH',
  'VALUES',
  'BEGIN',
  'START',
  'COMMIT',
  'ROLLBACK',
  'SAVEPOINT',
  'RELEASE',
  'SET',
  'SHOW',
  'LISTEN',
  'UNLISTEN',
  'NOTIFY',
  'LOCK',
  'TRUNCATE',
  'CREATE',
  'ALTER',
  'DROP',
  'COPY',
  'VACUUM',
  'ANALYZE',
  'EXPLAIN',
  'CALL',
  'DO',
  'REFRESH',
]);
const NOT_A_TABLE = new Set(['SELECT', 'SET', 'LATERAL', 'ONLY', 'WHERE', 'VALUES', 'IF']);
// String literals, dollar-quoted bodies and comments: the only places values can hide.
const LITERALS_AND_COMMENTS =
  /[Ee]'(?:[^'\\]|\\.|'')*'|'(?:[^']|'')*'|\$(\w*)\$[\s\S]*?\$\1\$|--[^\n]*|\/\*[\s\S]*?\*\//g;
const IDENTIFIER = String.raw`(?:"[^"]+"|[A-Za-z_][\w$]*)`;
// The first table after FROM or JOIN (unless a "(" makes it a function: now(), unnest()),
// or after INTO, TABLE or UPDATE (not FOR UPDATE or DO UPDATE), where "(" opens a column list.
const NAME = String.raw`${IDENTIFIER}(?:\.${IDENTIFIER})?`;
const TABLE = new RegExp(
  String.raw`\b(?:(?:FROM|JOIN)\s+(${NAME})(?![\w$."]|\s*\()|(?:INTO|TABLE|(?<!\b(?:FOR|DO)\s+)UPDATE)\s+(${NAME})(?![\w$."]))`,
  'gi',
);

// "SELECT actions", "INSERT outbox", "COMMIT": the operation keyword and the first table,
// built only from an allow-listed keyword and identifier-shaped words outside literals.
export function summarizeSql(text: string): { operation: string; collection?: string; summary: string } {
  const sql = text.replace(LITERALS_AND_COMMENTS, ' ');
  const keyword = /^[\s(]*([A-Za-z]+)/.exec(sql)?.[1]?.toUpperCase();
  const operation = keyword && OPERATIONS.has(keyword) ? keyword : 'QUERY';
  let collection: string | undefined;
  for (const match of sql.matchAll(TABLE)) {
    const name = (match[1] ?? match[2] ?? '').replace(/"/g, '');
    if (!NOT_A_TABLE.has(name.toUpperCase())) {
      collection = name;
      break;
    }
  }
  return { operation, collection, summary: collection ? `${operation} ${collection}` : operation };
}

// One server span per request, the parent of everything the handler does. Call before any
// route is registered, and only when telemetry is enabled. Incoming traceparent headers are
// ignored on purpose: clients are outside our trust boundary and must not pick our sampling.
export function traceRequests<Logger extends FastifyBaseLogger, Provider extends FastifyTypeProvider>(
  app: FastifyInstance<RawServerDefault, IncomingMessage, ServerResponse, Logger, Provider>,
  tracer: Tracer,
): void {
  const spans = new WeakMap<object, Span>();
  const end = (request: object, statusCode: number | undefined) => {
    const span = spans.get(request);
    if (!span) return;
    spans.delete(request);
    if (statusCode !== undefined) {
      span.setAttribute(ATTR_HTTP_RESPONSE_STATUS_CODE, statusCode);
      if (statusCode >= 500) {
        span.setAttribute(ATTR_ERROR_TYPE, String(statusCode));
        span.setStatus({ code: SpanStatusCode.ERROR });
      }
    } else {
      span.setAttribute(ATTR_ERROR_TYPE, 'aborted');
    }
    span.end();
  };

  app.addHook('onRequest', (request, _reply, done) => {
    const route = request.routeOptions.url;
    const span = tracer.startSpan(
      route ? `${request.method} ${route}` : request.method,
      {
        kind: SpanKind.SERVER,
        attributes: {
          [ATTR_HTTP_REQUEST_METHOD]: request.method,
          ...(route ? { [ATTR_HTTP_ROUTE]: route } : {}),
          'airlock.request_id': request.id,
        },
      },
      ROOT_CONTEXT,
    );
    spans.set(request, span);
    // Calling done inside the context makes every later hook and the handler its children.
    context.with(trace.setSpan(ROOT_CONTEXT, span), done);
  });
  app.addHook('onError', async (request, _reply, error) => {
    // Client errors (validation, auth, not found) are answers, not failures; only 5xx are
    // recorded. Fastify's errors carry statusCode, our AppErrors status.
    const { statusCode, status: appStatus } = error as { statusCode?: number; status?: number };
    const status = statusCode ?? appStatus;
    if (status === undefined || status >= 500) spans.get(request)?.recordException(error);
  });
  app.addHook('onResponse', async (request, reply) => end(request, reply.statusCode));
  app.addHook('onRequestAbort', async (request) => end(request, undefined));
}

async function endClientSpan<T>(
  span: Span,
  fn: () => Promise<T>,
  extraAttributes?: (err: unknown) => Attributes,
): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    // Driver messages can quote values ("invalid input syntax for type uuid: ..."), so client
    // spans keep only the error code.
    markError(span, err, { recordException: false });
    if (extraAttributes && span.isRecording()) span.setAttributes(extraAttributes(err));
    throw err;
  } finally {
    span.end();
  }
}

function markError(span: Span, err: unknown, options: { recordException: boolean }): void {
  if (!span.isRecording()) return;
  const code = (err as { code?: unknown } | null)?.code;
  const type = typeof code === 'string' ? code : err instanceof Error ? err.name : 'unknown';
  span.setAttribute(ATTR_ERROR_TYPE, type);
  if (options.recordException) {
    span.recordException(err instanceof Error ? err : String(err));
    span.setStatus({ code: SpanStatusCode.ERROR, message: err instanceof Error ? err.message : undefined });
  } else {
    span.setStatus({ code: SpanStatusCode.ERROR });
  }
}
