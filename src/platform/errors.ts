// One error hierarchy for the whole service. Anything thrown that is not an AppError
// is a bug and renders as a 500 with its details hidden.

export interface ProblemExtras {
  [key: string]: unknown;
}

export class AppError extends Error {
  readonly code: string;
  readonly status: number;
  readonly extras: ProblemExtras;
  readonly headers: Record<string, string>;

  constructor(
    code: string,
    status: number,
    message: string,
    options: { cause?: unknown; extras?: ProblemExtras; headers?: Record<string, string> } = {},
  ) {
    super(message, { cause: options.cause });
    this.name = new.target.name;
    this.code = code;
    this.status = status;
    this.extras = options.extras ?? {};
    this.headers = options.headers ?? {};
  }
}

export class ValidationError extends AppError {
  constructor(code: string, message: string, extras?: ProblemExtras) {
    super(code, 400, message, { extras });
  }
}

export class UnprocessableError extends AppError {
  constructor(code: string, message: string, extras?: ProblemExtras) {
    super(code, 422, message, { extras });
  }
}

export class UnauthorizedError extends AppError {
  constructor(message = 'A valid API key is required.') {
    super('unauthorized', 401, message, { headers: { 'www-authenticate': 'Bearer' } });
  }
}

export class ForbiddenError extends AppError {
  constructor(code = 'forbidden', message = 'This key may not perform this operation.') {
    super(code, 403, message);
  }
}

export class NotFoundError extends AppError {
  constructor(what = 'resource') {
    super('not_found', 404, `The ${what} does not exist.`);
  }
}

export class ConflictError extends AppError {
  constructor(code: string, message: string) {
    super(code, 409, message);
  }
}

export class TooManyRequestsError extends AppError {
  constructor(retryAfterSeconds: number, message = 'Too many requests.') {
    super('rate_limited', 429, message, {
      headers: { 'retry-after': String(Math.max(1, Math.ceil(retryAfterSeconds))) },
    });
  }
}

export class ServiceUnavailableError extends AppError {
  constructor(code: string, message: string, retryAfterSeconds?: number) {
    super(code, 503, message, {
      headers: retryAfterSeconds ? { 'retry-after': String(Math.ceil(retryAfterSeconds)) } : {},
    });
  }
}

// A failure that retrying cannot fix: the worker turns it into BullMQ's UnrecoverableError.
export class PermanentToolError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, 422, message, options);
  }
}

// A failure that may pass on retry (timeouts, a dependency that is down).
export class TransientToolError extends AppError {
  constructor(code: string, message: string, options: { cause?: unknown } = {}) {
    super(code, 503, message, options);
  }
}

// A dependency failed, not the work: Postgres or Redis refused or dropped the connection,
// the server is shutting down or refusing new connections, or the pool timed out waiting
// for one. Such a failure says nothing about the request or the tool; callers answer 503
// or retry later without counting it against the work.
export function isConnectionOutage(error: unknown): boolean {
  if (!(error instanceof Error)) return false;
  const code = (error as { code?: unknown }).code;
  const text = typeof code === 'string' ? code : '';
  return (
    ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '53300'].includes(text) ||
    text.startsWith('08') ||
    /timeout exceeded when trying to connect|Connection terminated|Client has encountered a connection error|Connection is closed|Stream isn't writeable/i.test(
      error.message,
    )
  );
}

// Thrown by the worker's execution when a dependency failed around the tool rather than
// the tool itself: the job goes back to the queue without using one of its attempts.
export class InfrastructureError extends AppError {
  constructor(message: string, options: { cause?: unknown } = {}) {
    super('dependency_unavailable', 503, message, options);
  }
}
