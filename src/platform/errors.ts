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
