import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

// Paths pino censors before a line is written, whatever a careless log call passes. Content
// (a secret or an address inside a message) is scrubbed separately, by LogRedaction.scrub.
// Request bodies are never logged (see the access log in platform/http/http-server.ts).
export const REDACT_PATHS: readonly string[] = Object.freeze([
  // The same names at the top level of a log call.
  'authorization',
  'apiKey',
  'password',
  'token',
  'secret',
  // Credentials in transit: the API key (Authorization: Bearer), cookies, and the
  // alternative key headers clients sometimes send.
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'req.headers["proxy-authorization"]',
  'res.headers["set-cookie"]',
  // The same headers when an outbound HTTP client (http.fetch) logs its request.
  'headers.authorization',
  'headers.cookie',
  'request.headers.authorization',
  // Fields that hold credentials wherever they appear one level down (config dumps,
  // error contexts). A bare "key" is left alone: cache and idempotency keys are useful in
  // logs, and a leaked API key is caught by content in redactForLog.
  '*.password',
  '*.secret',
  '*.token',
  '*.api_key',
  '*.apiKey',
  // Free text from proposals: message bodies, the user's prompt, the documents the
  // assistant read and its rationale. They carry personal data and are the payloads of
  // injection attempts; logs record that a proposal happened, not what it said.
  'arguments.body',
  '*.arguments.body',
  'context.user_prompt',
  'context.source_documents',
  'context.model_rationale',
  '*.context.user_prompt',
  '*.context.source_documents',
  '*.context.model_rationale',
  // Tool results are user data; the API returns them redacted, logs need not carry them.
  'result',
  '*.result',
]);

// Marks a line whose fields are all set by our own code from validated values (the access
// line: method, route template, status, duration, tenant slug, request id). The content
// scrub is skipped for it: it can find nothing there, and it was the largest single cost of
// serving a request (BENCHMARKS.md, profile). Censoring by path still applies.
export const CODE_FIELDS_ONLY: unique symbol = Symbol('airlock.log.codeFieldsOnly');

export interface LogRedaction {
  // Censored by location, before serialisation; REDACT_PATHS when not given.
  paths?: readonly string[];
  // Censors by content (secrets, card numbers, addresses) in every line's own fields.
  scrub?: (fields: Record<string, unknown>) => unknown;
}

export function createLogger(options: {
  level: LogLevel;
  base?: Record<string, unknown>;
  destination?: DestinationStream;
  // Adds fields to every line, e.g. the active trace and span ids.
  mixin?: () => Record<string, unknown>;
  redaction?: LogRedaction;
}): Logger {
  const scrub = options.redaction?.scrub;
  const mixin = options.mixin;
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: {
        level: (label) => ({ level: label }),
        // The mixin's fields join after the scrub: they are code-controlled ids, and a
        // random 32-digit trace id reads as a secret to the high-entropy check.
        ...(scrub
          ? {
              log: (fields: Record<string | symbol, unknown>) =>
                fields[CODE_FIELDS_ONLY] === true
                  ? { ...mixin?.(), ...fields }
                  : {
                      ...mixin?.(),
                      ...(scrub(serializeErrors(fields as Record<string, unknown>)) as Record<
                        string,
                        unknown
                      >),
                    },
            }
          : {}),
      },
      redact: { paths: [...(options.redaction?.paths ?? REDACT_PATHS)], censor: '[REDACTED]' },
      // Errors were made plain by serializeErrors before the scrub; a plain object passes.
      serializers: {
        err: (value: unknown) => (value instanceof Error ? pino.stdSerializers.err(value) : value),
      },
      ...(mixin && !scrub ? { mixin } : {}),
    },
    options.destination,
  );
}

// The scrub sees only enumerable fields, and an Error's message and stack are not: turn
// errors into plain objects first, so they are kept, and scrubbed like everything else.
function serializeErrors(fields: Record<string, unknown>): Record<string, unknown> {
  let out: Record<string, unknown> | undefined;
  for (const [key, value] of Object.entries(fields)) {
    if (value instanceof Error) {
      out ??= { ...fields };
      out[key] = pino.stdSerializers.err(value);
    }
  }
  return out ?? fields;
}
