import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

// Paths pino censors before a line is written, whatever a careless log call passes.
// Request bodies are never logged (see the access log in platform/http/http-server.ts).
// The safety module's fuller list (src/modules/safety/redaction.ts) is passed in by main.
export const BASE_REDACT_PATHS: readonly string[] = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

// Marks a line whose fields are all set by our own code from validated values (the access
// line: method, route template, status, duration, tenant slug, request id). The content
// scrub is skipped for it: it can find nothing there, and it was the largest single cost of
// serving a request (BENCHMARKS.md, profile). Censoring by path still applies.
export const CODE_FIELDS_ONLY: unique symbol = Symbol('airlock.log.codeFieldsOnly');

export interface LogRedaction {
  // Censored by location, before serialisation.
  paths: readonly string[];
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
      redact: { paths: [...(options.redaction?.paths ?? BASE_REDACT_PATHS)], censor: '[REDACTED]' },
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
