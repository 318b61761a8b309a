import { ApiError, get } from '../api.js';
import { h, link, replace, table, time } from '../dom.js';
import { argumentFields, contextSections, reasonList, statusBadge } from './proposal.js';

/** @param {unknown} err */
function missingAsNull(err) {
  if (err instanceof ApiError && err.status === 404) return null;
  throw err;
}

/** @param {import('../app.js').ViewContext} ctx */
export async function renderAction({ root, me, params }) {
  const id = /** @type {string} */ (params[0]);
  const isAdmin = me.role === 'admin';
  // One round trip: the four reads go out together.
  const [action, details, audit, verification] = await Promise.all([
    get(`/v1/actions/${id}`).catch(missingAsNull),
    get(`/v1/actions/${id}/details`).catch(missingAsNull),
    isAdmin ? get(`/v1/audit?action_id=${id}&limit=100`) : null,
    isAdmin ? get('/v1/audit/verify') : null,
  ]);
  if (!action || !details) {
    replace(
      root,
      h('h1', null, 'Action not found'),
      h('p', null, 'No action with that id exists in your tenant.'),
    );
    return;
  }

  replace(
    root,
    h('h1', null, `${action.tool} `, statusBadge(action.status)),
    h(
      'p',
      { class: 'muted' },
      h('span', { class: 'mono' }, action.id),
      ` · user ${action.user_id} · decision ${action.decision.outcome}, risk ${action.decision.risk_score} · attempts ${action.attempts}`,
    ),
    h('h2', null, 'Status timeline'),
    timeline(details.timeline),
    h('h2', null, 'Decision reasons'),
    reasonList(action.decision.reasons),
    h('h2', null, 'Arguments'),
    argumentFields(action.arguments, action.decision.reasons, details.context),
    h('h2', null, 'Proposal context'),
    contextSections(details.context, action.decision.reasons),
    h('h2', null, 'Result (redacted)'),
    action.result
      ? h('pre', { id: 'result' }, JSON.stringify(action.result, null, 2))
      : h('p', { class: 'muted' }, 'No result.'),
    action.error
      ? h('p', { class: 'notice bad' }, `Error ${action.error.code}: ${action.error.message}`)
      : null,
    h('h2', null, 'User reports'),
    details.reports.length
      ? h(
          'ul',
          null,
          details.reports.map((/** @type {any} */ r) =>
            h(
              'li',
              null,
              h('strong', null, r.reason),
              r.details ? ` ${r.details} ` : ' ',
              time(r.created_at),
            ),
          ),
        )
      : h('p', { class: 'muted' }, 'No reports.'),
    h('h2', null, 'Trace'),
    details.trace_id
      ? h(
          'p',
          null,
          'Trace id ',
          h('span', { class: 'mono', id: 'trace-id' }, details.trace_id),
          details.trace_url
            ? [' · ', link(details.trace_url, 'open in the trace UI')]
            : ' (set TRACE_UI_URL to link it to a trace UI)',
        )
      : h(
          'p',
          { class: 'muted' },
          'No trace id: the action was never queued, or tracing was off when it was.',
        ),
    h('h2', null, 'Audit events'),
    isAdmin
      ? auditTable(audit.items, verification)
      : h('p', { class: 'muted' }, 'Audit events and the hash chain are shown to admins.'),
  );
}

/** @param {Array<{ at: string, type: string, actor: string, status: string | null, note: string | null }>} entries */
function timeline(entries) {
  if (!entries.length) return h('p', { class: 'muted' }, 'No events recorded.');
  return h(
    'ol',
    { class: 'timeline' },
    entries.map((e) =>
      h(
        'li',
        null,
        time(e.at),
        ' ',
        h('code', null, e.type),
        e.status ? [' → ', statusBadge(e.status)] : null,
        h('span', { class: 'muted' }, ` by ${e.actor}`),
        e.note ? ` “${e.note}”` : null,
      ),
    ),
  );
}

/**
 * The action's events and where they stand in the tenant's hash chain: the chain is
 * verified as a whole, so an event at or after the first invalid sequence number cannot be
 * trusted.
 * @param {Array<{ seq: number, type: string, actor: string, created_at: string, prev_hash: string, hash: string }>} events
 * @param {{ valid: boolean, checked: number, first_invalid_seq: number | null }} verification
 */
function auditTable(events, verification) {
  const bad = verification.first_invalid_seq;
  const state = verification.valid
    ? h(
        'p',
        { class: 'notice ok', id: 'chain-state' },
        `Hash chain verified: all ${verification.checked} events of the tenant link up.`,
      )
    : h(
        'p',
        { class: 'notice bad', id: 'chain-state' },
        `Hash chain INVALID from event ${bad}: events from there on cannot be trusted.`,
      );
  return [
    state,
    table(
      'Audit events of this action',
      ['Seq', 'Event', 'Actor', 'At', 'Hash', 'Chain'],
      events.map((e) => {
        const ok = bad === null || e.seq < bad;
        return h(
          'tr',
          null,
          h('td', null, String(e.seq)),
          h('td', null, h('code', null, e.type)),
          h('td', null, e.actor),
          h('td', null, time(e.created_at)),
          h('td', { class: 'mono', title: `prev ${e.prev_hash}` }, `${e.hash.slice(0, 12)}…`),
          h('td', null, h('span', { class: `badge ${ok ? 'ok' : 'bad'}` }, ok ? 'verified' : 'invalid')),
        );
      }),
    ),
  ];
}
