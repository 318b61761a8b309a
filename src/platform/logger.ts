import { pino, type Logger, type DestinationStream } from 'pino';
import type { LogLevel } from './config.ts';

export type { Logger };

// Paths pino censors before a line is written. Keys never reach a log line; request
// bodies are not logged at all (see the access log in app.ts), so these guard the
// places where a careless log call could still pass one.
export const REDACT_PATHS = [
  'req.headers.authorization',
  'req.headers.cookie',
  'headers.authorization',
  'authorization',
  'key',
  '*.key',
  'apiKey',
  '*.apiKey',
  'password',
  '*.password',
  'token',
  '*.token',
  'secret',
  '*.secret',
];

export function createLogger(options: {
  level: LogLevel;
  base?: Record<string, unknown>;
  destination?: DestinationStream;
  // Adds fields to every line, e.g. the active trace and span ids.
  mixin?: () => Record<string, unknown>;
}): Logger {
  return pino(
    {
      level: options.level,
      base: options.base ?? {},
      timestamp: pino.stdTimeFunctions.isoTime,
      formatters: { level: (label) => ({ level: label }) },
      redact: { paths: REDACT_PATHS, censor: '[REDACTED]' },
      ...(options.mixin ? { mixin: options.mixin } : {}),
    },
    options.destination,
  );
}
