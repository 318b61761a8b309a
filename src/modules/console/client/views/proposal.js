import { h } from '../dom.js';
import { contextSnippets, echoReasons, mergeSpans, parseEvidence, segment, spansFor } from '../evidence.js';

/** @typedef {{ code: string, message: string, evidence?: string }} Reason */

/**
 * @param {string} text
 * @param {Array<{ code: string, evidence?: string }>} reasons
 * @param {Array<string | number>} path
 * @param {Array<string | number>} [alsoPath] echoes of context evidence, found in this text
 */
function highlighted(text, reasons, path, alsoPath) {
  const spans = spansFor(reasons, path, text.length);
  const merged = alsoPath ? mergeSpans([...spans, ...spansFor(reasons, alsoPath, text.length)]) : spans;
  return segment(text, merged).map((piece) =>
    piece.codes
      ? h(
          'mark',
          { title: `Evidence for ${piece.codes.join(', ')}`, dataset: { reasons: piece.codes.join(' ') } },
          piece.text,
        )
      : piece.text,
  );
}

/** @param {Reason[]} reasons */
export function reasonList(reasons) {
  if (!reasons.length) return h('p', { class: 'muted' }, 'No reasons: the default decision.');
  return h(
    'ul',
    { class: 'reasons' },
    reasons.map((r) =>
      h(
        'li',
        null,
        h('code', null, r.code),
        ' ',
        r.message,
        r.evidence ? h('span', { class: 'muted' }, ` (at ${r.evidence})`) : null,
      ),
    ),
  );
}

/**
 * @param {Record<string, unknown>} args
 * @param {Reason[]} reasons
 * @param {Parameters<typeof contextSnippets>[1]} [context] to mark where context evidence reappears
 */
export function argumentFields(args, reasons, context = {}) {
  const snippets = contextSnippets(reasons, context);
  const wholeArguments = reasons.some((r) => parseEvidence(r.evidence ?? '')?.path.join('.') === 'arguments');
  return h(
    'dl',
    { class: 'fields' + (wholeArguments ? ' flagged' : '') },
    Object.entries(args).map(([name, value]) => [
      h('dt', null, name),
      h(
        'dd',
        { class: 'mono' },
        typeof value === 'string'
          ? highlighted(value, [...reasons, ...echoReasons(value, snippets)], ['arguments', name], ['echo'])
          : JSON.stringify(value, null, 2),
      ),
    ]),
  );
}

/**
 * The proposal's context with evidence highlighted: what the user asked, why the model
 * acted, and the untrusted documents it read (where injected instructions come from).
 * @param {{ user_prompt?: string, model_rationale?: string, source_documents?: Array<{ source: string, content: string }> }} context
 * @param {Reason[]} reasons
 */
export function contextSections(context, reasons) {
  const parts = [];
  if (context.user_prompt !== undefined) {
    parts.push(
      h('h3', null, 'What the user asked'),
      h('pre', null, highlighted(context.user_prompt, reasons, ['context', 'user_prompt'])),
    );
  }
  if (context.model_rationale !== undefined) {
    parts.push(
      h('h3', null, "The model's rationale"),
      h('pre', null, highlighted(context.model_rationale, reasons, ['context', 'model_rationale'])),
    );
  }
  const docs = context.source_documents ?? [];
  if (docs.length) {
    parts.push(h('h3', null, `Source documents (${docs.length}, untrusted)`));
    docs.forEach((doc, i) => {
      parts.push(
        h('p', { class: 'muted' }, `Document ${i + 1}: `, h('span', { class: 'mono' }, doc.source)),
        h('pre', null, highlighted(doc.content, reasons, ['context', 'source_documents', i, 'content'])),
      );
    });
  }
  if (!parts.length) parts.push(h('p', { class: 'muted' }, 'The proposal carried no context.'));
  return parts;
}

/** @param {number} ageSeconds @param {number} sloSeconds */
export function slaBadge(ageSeconds, sloSeconds = 900) {
  const minutes = Math.floor(ageSeconds / 60);
  const label = ageSeconds < 60 ? `${Math.round(ageSeconds)} s old` : `${minutes} min old`;
  if (ageSeconds > sloSeconds) return h('span', { class: 'badge bad' }, `${label}, over the 15 min SLO`);
  if (ageSeconds > sloSeconds * 0.66) return h('span', { class: 'badge warn' }, `${label}, near the SLO`);
  return h('span', { class: 'badge ok' }, label);
}

/** @param {string} status */
export function statusBadge(status) {
  const tone =
    {
      succeeded: 'ok',
      queued: 'ok',
      running: 'ok',
      pending_review: 'warn',
      failed: 'bad',
      denied: 'bad',
      rejected: 'bad',
    }[status] ?? '';
  return h('span', { class: `badge ${tone}` }, status);
}
