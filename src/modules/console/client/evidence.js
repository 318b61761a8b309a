// Evidence spans: decision reasons point at where they found their evidence, as a path
// into the proposal plus an optional character range, for example
//   context.source_documents[0].content[120:164]
//   arguments.body[3:40]
//   arguments["x-id"]
// This module turns those strings into highlight ranges per field. It touches no DOM, so
// the unit tests run it in Node.

const RANGE = /\[(\d+):(\d+)\]$/;

/**
 * @param {string} evidence
 * @returns {{ path: Array<string | number>, start: number | null, end: number | null } | null}
 */
export function parseEvidence(evidence) {
  if (typeof evidence !== 'string' || evidence.length === 0 || evidence.length > 1024) return null;
  let rest = evidence;
  let start = null;
  let end = null;
  const range = RANGE.exec(rest);
  if (range) {
    start = Number(range[1]);
    end = Number(range[2]);
    if (end < start) return null;
    rest = rest.slice(0, range.index);
  }
  /** @type {Array<string | number>} */
  const path = [];
  let i = 0;
  while (i < rest.length) {
    if (rest[i] === '.') {
      i += 1;
      continue;
    }
    if (rest.startsWith('["', i)) {
      const close = rest.indexOf('"]', i + 2);
      if (close < 0) return null;
      path.push(rest.slice(i + 2, close));
      i = close + 2;
      continue;
    }
    if (rest[i] === '[') {
      const close = rest.indexOf(']', i);
      const index = rest.slice(i + 1, close);
      if (close < 0 || !/^\d+$/.test(index)) return null;
      path.push(Number(index));
      i = close + 1;
      continue;
    }
    const next = rest.slice(i).search(/[.[]/);
    const name = next < 0 ? rest.slice(i) : rest.slice(i, i + next);
    path.push(name);
    i += name.length;
  }
  return path.length ? { path, start, end } : null;
}

/** @param {Array<string | number>} a @param {Array<string | number>} b */
const samePath = (a, b) => a.length === b.length && a.every((part, i) => part === b[i]);

/**
 * The highlight ranges for one string field, merged where they overlap; a reason that names
 * the field without a range highlights all of it.
 * @param {Array<{ code: string, evidence?: string }>} reasons
 * @param {Array<string | number>} fieldPath
 * @param {number} length the field's length
 * @returns {Array<{ start: number, end: number, codes: string[] }>}
 */
export function spansFor(reasons, fieldPath, length) {
  /** @type {Array<{ start: number, end: number, codes: string[] }>} */
  const spans = [];
  for (const reason of reasons) {
    const parsed = reason.evidence ? parseEvidence(reason.evidence) : null;
    if (!parsed || !samePath(parsed.path, fieldPath)) continue;
    const start = Math.min(parsed.start ?? 0, length);
    const end = Math.min(parsed.end ?? length, length);
    if (end > start) spans.push({ start, end, codes: [reason.code] });
  }
  return mergeSpans(spans);
}

/**
 * Sorts spans and merges the ones that overlap, keeping every reason code.
 * @param {Array<{ start: number, end: number, codes: string[] }>} spans
 */
export function mergeSpans(spans) {
  const sorted = [...spans].sort((a, b) => a.start - b.start || a.end - b.end);
  /** @type {Array<{ start: number, end: number, codes: string[] }>} */
  const merged = [];
  for (const span of sorted) {
    const last = merged.at(-1);
    if (last && span.start <= last.end) {
      last.end = Math.max(last.end, span.end);
      for (const code of span.codes) if (!last.codes.includes(code)) last.codes.push(code);
    } else {
      merged.push({ ...span, codes: [...span.codes] });
    }
  }
  return merged;
}

/**
 * The evidence text itself, for reasons whose evidence points into the context: a
 * recipient found in a source document, say.
 * @param {Array<{ code: string, evidence?: string }>} reasons
 * @param {{ user_prompt?: string, model_rationale?: string, source_documents?: Array<{ content: string }> }} context
 * @returns {Array<{ text: string, code: string }>}
 */
export function contextSnippets(reasons, context) {
  /** @type {Array<{ text: string, code: string }>} */
  const snippets = [];
  for (const reason of reasons) {
    const parsed = reason.evidence ? parseEvidence(reason.evidence) : null;
    if (!parsed || parsed.path[0] !== 'context' || parsed.start === null || parsed.end === null) continue;
    const [, field, index] = parsed.path;
    const source =
      field === 'source_documents' && typeof index === 'number'
        ? context.source_documents?.[index]?.content
        : field === 'user_prompt' || field === 'model_rationale'
          ? context[field]
          : undefined;
    const text = source?.slice(parsed.start, parsed.end);
    if (text && text.trim().length >= 3) snippets.push({ text, code: reason.code });
  }
  return snippets;
}

/**
 * Where evidence found in the context reappears in an argument: the reviewer sees that the
 * recipient in `to` is the one the document asked for. Case-insensitive.
 * @param {string} value
 * @param {Array<{ text: string, code: string }>} snippets
 */
export function echoReasons(value, snippets) {
  const lower = value.toLowerCase();
  /** @type {Array<{ code: string, evidence: string }>} */
  const found = [];
  for (const snippet of snippets) {
    const needle = snippet.text.toLowerCase();
    for (let at = lower.indexOf(needle); at >= 0; at = lower.indexOf(needle, at + needle.length)) {
      found.push({ code: snippet.code, evidence: `echo[${at}:${at + needle.length}]` });
    }
  }
  return found;
}

/**
 * Cuts a text into plain and highlighted pieces.
 * @param {string} text
 * @param {Array<{ start: number, end: number, codes: string[] }>} spans sorted, not overlapping
 * @returns {Array<{ text: string, codes: string[] | null }>}
 */
export function segment(text, spans) {
  /** @type {Array<{ text: string, codes: string[] | null }>} */
  const pieces = [];
  let at = 0;
  for (const span of spans) {
    if (span.start > at) pieces.push({ text: text.slice(at, span.start), codes: null });
    pieces.push({ text: text.slice(span.start, span.end), codes: span.codes });
    at = span.end;
  }
  if (at < text.length) pieces.push({ text: text.slice(at), codes: null });
  return pieces;
}
