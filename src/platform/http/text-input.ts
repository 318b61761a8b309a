import type { FastifyInstance, FastifyRequest } from 'fastify';
import { AppError } from '../errors.ts';

// Every string a request brings is checked here, once, before any route sees it (ADR 0027):
// the body is decoded as strict UTF-8 and parsed, and every string in it, in the query, in the
// path parameters and in the headers must be text Postgres can store. Postgres refuses NUL in
// `text` and `jsonb`, and the driver refuses unpaired UTF-16 surrogates, so either would
// otherwise surface as a 500 half-way through a transaction. Schemas still own shape and
// bounds; this owns what a string may contain, for every route at once.

// Deeper JSON is refused: no request of this API nests further, and walkers that recurse
// (validation, canonical hashing, redaction) stay far from the stack limit.
export const MAX_JSON_DEPTH = 32;

export interface TextProblem {
  field: string;
  message: string;
}

const UTF8 = new TextDecoder('utf-8', { fatal: true });

// The first character Postgres cannot store, as a message, or null.
export function textProblemOf(value: string): string | null {
  if (value.includes('\u0000')) return 'contains a NUL character (\\u0000)';
  if (!value.isWellFormed()) return 'contains an unpaired UTF-16 surrogate';
  return null;
}

// Walks a parsed JSON value iteratively (no recursion to exhaust) and names the first field
// whose key or string value cannot be stored, whose number is not finite (1e400 parses as
// Infinity, which JSON cannot carry back), or that nests deeper than MAX_JSON_DEPTH. Each
// step keeps its parent and key, and a field's path is spelled only for the one reported:
// an object of 40,000 keys costs no 40,000 path strings.
export function findTextProblem(value: unknown, root: string): TextProblem | null {
  interface Step {
    value: unknown;
    key: string;
    parent: Step | null;
    depth: number;
  }
  const pathOf = (step: Step, lastKey = step.key): string => {
    const keys = [lastKey];
    for (let at = step.parent; at; at = at.parent) keys.push(at.key);
    return keys.reverse().join('.');
  };
  const pending: Step[] = [{ value, key: root, parent: null, depth: 0 }];
  while (pending.length > 0) {
    const step = pending.pop()!;
    const current = step.value;
    if (typeof current === 'string') {
      const message = textProblemOf(current);
      if (message) return { field: pathOf(step), message };
    } else if (typeof current === 'number') {
      if (!Number.isFinite(current))
        return { field: pathOf(step), message: 'is a number too large to represent' };
    } else if (current !== null && typeof current === 'object') {
      if (step.depth >= MAX_JSON_DEPTH) {
        return { field: pathOf(step), message: `nests deeper than ${MAX_JSON_DEPTH} levels` };
      }
      for (const key in current) {
        const message = textProblemOf(key);
        if (message) {
          return { field: `${pathOf(step)}.${printable(key)}`, message: `is a key that ${message}` };
        }
        pending.push({
          value: (current as Record<string, unknown>)[key],
          key,
          parent: step,
          depth: step.depth + 1,
        });
      }
    }
  }
  return null;
}

export function invalidText(problem: TextProblem): AppError {
  return new AppError('invalid_request', 400, `${problem.field} ${problem.message}.`, {
    extras: { errors: [problem] },
  });
}

// Replaces the default JSON parser: the bytes must be UTF-8 (a replacement character would
// silently change what the client sent), then the prototype-poisoning-safe default parser
// runs, then the walk above. Plain text bodies are not accepted by any route, so their parser
// goes too: a text/plain request gets 415 instead of a string that was never checked.
export function acceptOnlyCheckedJson(app: FastifyInstance): void {
  const parseJson = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser(['application/json', 'text/plain']);
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, (request, body, done) => {
    let text: string;
    try {
      text = UTF8.decode(body as Buffer);
    } catch {
      return done(new AppError('invalid_request', 400, 'The request body is not valid UTF-8.'), undefined);
    }
    parseJson(request, text, (error, parsed) => {
      if (error) return done(error, undefined);
      const problem = findTextProblem(parsed, 'body');
      done(problem ? invalidText(problem) : null, problem ? undefined : parsed);
    });
  });
}

// The query (raw and decoded), the path parameters and the headers, before authentication
// and routing run their own code on them. Node already refuses NUL in a header on a real
// socket; the check here also covers injected requests and the decoded forms.
export async function rejectUncheckedText(request: FastifyRequest): Promise<void> {
  const problem =
    rawQueryProblem(request.url) ??
    findTextProblem(request.query, 'query') ??
    findTextProblem(request.params, 'params') ??
    headerProblem(request.headers);
  if (problem) throw invalidText(problem);
}

// A percent-escape that is not UTF-8 (`%C3%28`, or `%ED%A0%80`, a surrogate spelled in
// UTF-8) would otherwise reach the route as the literal escape text.
function rawQueryProblem(url: string): TextProblem | null {
  const start = url.indexOf('?');
  if (start === -1) return null;
  for (const part of url.slice(start + 1).split(/[&=]/)) {
    try {
      decodeURIComponent(part.replaceAll('+', ' '));
    } catch {
      return { field: 'query', message: 'is not valid percent-encoded UTF-8' };
    }
  }
  return null;
}

function headerProblem(headers: FastifyRequest['headers']): TextProblem | null {
  for (const [name, value] of Object.entries(headers)) {
    for (const text of Array.isArray(value) ? value : [value ?? '']) {
      const message = textProblemOf(text);
      if (message) return { field: `headers.${name}`, message };
    }
  }
  return null;
}

// A key is echoed in the problem; its unstorable characters are shown as escapes.
function printable(key: string): string {
  return Array.from(key, (c) =>
    c === '\u0000' || (c.length === 1 && !c.isWellFormed())
      ? `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`
      : c,
  ).join('');
}
