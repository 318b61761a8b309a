import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyBaseLogger,
  type FastifyError,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import { Ajv } from 'ajv';
import { addFormats } from '../ajv-formats.ts';
import { AppError, isConnectionOutage } from '../errors.ts';
import { CODE_FIELDS_ONLY, type Logger } from '../logger.ts';
import { PROBLEM_TYPE_BASE, titleFor } from './problem.ts';
import { acceptOnlyCheckedJson, rejectUncheckedText } from './text-input.ts';

// The HTTP base every role's app is built on (the API and the moderation service): limits,
// request ids, validation, one problem+json error handler and one access line per request.

export type RequestObserver = (route: string, method: string, statusCode: number, seconds: number) => void;

export interface HttpServerOptions {
  logger: Logger;
  bodyLimitBytes: number;
  requestTimeoutMs: number;
  observeRequest?: RequestObserver;
  // Extra fields for the access line, e.g. the tenant of an authenticated request.
  accessLogFields?: (request: FastifyRequest) => Record<string, unknown>;
}

const REQUEST_ID = /^[A-Za-z0-9._-]{1,128}$/;

export function createHttpServer(options: HttpServerOptions) {
  const app = Fastify({
    loggerInstance: options.logger as FastifyBaseLogger,
    // We write our own access line per request; Fastify's two lines would double the cost.
    logController: new LogController({ disableRequestLogging: true, requestIdLogLabel: 'req_id' }),
    bodyLimit: options.bodyLimitBytes,
    requestTimeout: options.requestTimeoutMs,
    connectionTimeout: options.requestTimeoutMs,
    keepAliveTimeout: 5_000,
    forceCloseConnections: 'idle',
    return503OnClosing: true,
    requestIdHeader: false,
    genReqId: (req) => {
      const incoming = req.headers['x-request-id'];
      return typeof incoming === 'string' && REQUEST_ID.test(incoming) ? incoming : randomUUID();
    },
    // A path whose percent-escapes are not UTF-8 gets the same problem+json as any other 400.
    frameworkErrors: (error, request, reply) => sendProblem(error, request, reply, options.logger),
  }).withTypeProvider<TypeBoxTypeProvider>();

  // What a string may contain is checked once for every route: the body here, the query,
  // path and headers in the first onRequest hook (src/platform/http/text-input.ts).
  acceptOnlyCheckedJson(app);
  app.addHook('onRequest', rejectUncheckedText);

  // Query strings and headers arrive as text and are coerced to their schema types; JSON
  // bodies are not: "100" is not an integer, and a string is not an array.
  const validators = createRequestValidators();
  app.setValidatorCompiler(({ schema, httpPart }) =>
    httpPart === 'body' ? validators.body.compile(schema) : validators.text.compile(schema),
  );

  app.setErrorHandler((error, request, reply) => sendProblem(error as Error, request, reply, options.logger));
  app.setNotFoundHandler((request, reply) =>
    sendProblem(
      new AppError('not_found', 404, `No route for ${request.method} ${request.url.split('?')[0]}.`),
      request,
      reply,
      options.logger,
    ),
  );

  const requestStarts = new WeakMap<FastifyRequest, number>();
  app.addHook('onRequest', async (request, reply) => {
    reply.header('x-request-id', request.id);
    if (options.observeRequest) requestStarts.set(request, performance.now());
  });
  // A request whose socket closed before we answered never reaches onResponse; it still
  // counts in the RED histogram, as a failure: we cannot tell a client's impatience from our
  // own slowness, and a request nobody answered was not served (the availability SLI).
  app.addHook('onRequestAbort', async (request) => {
    const route = request.routeOptions.url ?? 'unmatched';
    const seconds = (performance.now() - (requestStarts.get(request) ?? performance.now())) / 1000;
    options.observeRequest?.(route, request.method, 599, seconds);
    request.log.info(
      {
        [CODE_FIELDS_ONLY]: true,
        method: request.method,
        route,
        duration_ms: Math.round(seconds * 1e5) / 100,
      },
      'request aborted before a response',
    );
  });
  // One access line per request, and the RED histogram. Bodies and headers are never logged.
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url ?? 'unmatched';
    options.observeRequest?.(route, request.method, reply.statusCode, reply.elapsedTime / 1000);
    request.log.info(
      {
        [CODE_FIELDS_ONLY]: true,
        method: request.method,
        route,
        status: reply.statusCode,
        duration_ms: Math.round(reply.elapsedTime * 100) / 100,
        ...options.accessLogFields?.(request),
      },
      'request completed',
    );
  });

  return app;
}

export type HttpServer = ReturnType<typeof createHttpServer>;

function createRequestValidators() {
  const options = { removeAdditional: false, useDefaults: true, allErrors: false, strict: false } as const;
  const body = new Ajv({ ...options, coerceTypes: false });
  const text = new Ajv({ ...options, coerceTypes: 'array' });
  addFormats(body);
  addFormats(text);
  return { body, text };
}

interface ValidationIssue {
  instancePath?: string;
  params?: { missingProperty?: string; additionalProperty?: string };
  message?: string;
}

export function toAppError(error: FastifyError | AppError | Error): AppError {
  if (error instanceof AppError) return error;
  const fastifyError = error as FastifyError & { validation?: ValidationIssue[]; validationContext?: string };
  if (fastifyError.validation) {
    const issue = fastifyError.validation[0];
    const where = fastifyError.validationContext ?? 'body';
    const path = [
      issue?.instancePath?.replace(/^\//, '').replace(/\//g, '.'),
      issue?.params?.additionalProperty ?? issue?.params?.missingProperty,
    ]
      .filter(Boolean)
      .join('.');
    const field = path ? `${where === 'querystring' ? 'query' : where}.${path}` : where;
    const message = issue?.params?.additionalProperty
      ? 'is not an allowed field'
      : (issue?.message ?? 'is invalid');
    return new AppError('invalid_request', 400, `${field} ${message}.`, {
      extras: { errors: [{ field, message }] },
    });
  }
  switch (fastifyError.code) {
    case 'FST_ERR_CTP_BODY_TOO_LARGE':
      return new AppError('payload_too_large', 413, 'The request body is larger than 1 MiB.');
    case 'FST_ERR_CTP_INVALID_MEDIA_TYPE':
      return new AppError('unsupported_media_type', 415, 'Send the body as application/json.');
    case 'FST_ERR_BAD_URL':
      return new AppError('invalid_request', 400, 'The path is not valid percent-encoded UTF-8.', {
        extras: { errors: [{ field: 'path', message: 'is not valid percent-encoded UTF-8' }] },
      });
    case 'FST_ERR_CTP_EMPTY_JSON_BODY':
    case 'FST_ERR_CTP_INVALID_JSON_BODY':
      return new AppError('invalid_request', 400, 'The request body is not valid JSON.');
  }
  if (isDependencyOutage(error)) {
    return new AppError('dependency_unavailable', 503, 'A dependency is unavailable; retry shortly.', {
      cause: error,
      headers: { 'retry-after': '2' },
    });
  }
  const status = fastifyError.statusCode;
  if (status && status >= 400 && status < 500) {
    // Fastify's own client errors (malformed JSON, bad content length and the like).
    const message = error instanceof SyntaxError ? 'The request body is not valid JSON.' : error.message;
    return new AppError(status === 404 ? 'not_found' : 'invalid_request', status, message);
  }
  return new AppError('internal_error', 500, 'An unexpected error occurred.', { cause: error });
}

// Postgres unreachable, restarting or out of connections: the request may succeed on retry,
// so the client gets 503 with Retry-After rather than a 500.
function isDependencyOutage(error: Error): boolean {
  // 57014: a statement cancelled by its timeout (a lock held too long, an overloaded
  // server) or by the request's deadline: a dependency condition, not a bug. (The worker
  // counts it as the tool's timeout instead, so it is not in the shared classifier.)
  return isConnectionOutage(error) || (error as { code?: unknown }).code === '57014';
}

// 503s that are the system working as designed during an outage or overload: they are in
// the access line and the metrics already, and a line with a stack for each would flood the
// logs exactly when someone reads them. One warning per code when they start, and a count
// every interval while they go on.
const EXPECTED_UNAVAILABLE = new Set([
  'overloaded',
  'dependency_unavailable',
  'moderation_fault_injected',
  'moderation_deadline_exceeded',
]);
const UNAVAILABLE_LOG_INTERVAL_MS = 10_000;
const unavailableSince = new WeakMap<Logger, Map<string, { since: number; count: number }>>();

function noteUnavailable(logger: Logger, problem: AppError): void {
  let byCode = unavailableSince.get(logger);
  if (!byCode) unavailableSince.set(logger, (byCode = new Map()));
  const now = Date.now();
  const current = byCode.get(problem.code);
  if (!current || now - current.since >= UNAVAILABLE_LOG_INTERVAL_MS) {
    const cause = problem.cause as { message?: string; code?: string } | undefined;
    logger.warn(
      {
        code: problem.code,
        answered_since_last_line: current?.count ?? 0,
        cause: cause ? { message: cause.message, code: cause.code } : undefined,
      },
      current ? 'still answering 503' : 'answering 503',
    );
    byCode.set(problem.code, { since: now, count: 1 });
  } else {
    current.count += 1;
  }
}

export function sendProblem(
  error: Error,
  request: FastifyRequest,
  reply: FastifyReply,
  logger: Logger,
): FastifyReply {
  const problem = toAppError(error);
  if (problem.status >= 500 && !EXPECTED_UNAVAILABLE.has(problem.code)) {
    // The client sees a generic message; the log keeps the cause.
    logger.error({ err: problem.cause ?? error, req_id: request.id, code: problem.code }, 'request failed');
  } else if (problem.status >= 500) {
    noteUnavailable(logger, problem);
  }
  for (const [name, value] of Object.entries(problem.headers)) reply.header(name, value);
  return reply
    .code(problem.status)
    .type('application/problem+json')
    .send({
      type: `${PROBLEM_TYPE_BASE}${problem.code}`,
      title: titleFor(problem.status),
      status: problem.status,
      detail:
        problem.status >= 500 && problem.code === 'internal_error'
          ? 'An unexpected error occurred.'
          : problem.message,
      code: problem.code,
      instance: request.url.split('?')[0],
      ...problem.extras,
    });
}
