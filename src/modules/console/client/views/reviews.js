import { ApiError, api, get } from '../api.js';
import { ageSeconds, duration, h, replace } from '../dom.js';
import { argumentFields, contextSections, reasonList, slaBadge, statusBadge } from './proposal.js';

/** @typedef {{ id: string, tool: string, user_id: string, created_at: string, status: string, arguments: Record<string, unknown>, decision: { outcome: string, risk_score: number, reasons: Array<{ code: string, message: string, evidence?: string }> } }} Action */

const SHORTCUTS = [
  ['j', 'next'],
  ['k', 'previous'],
  ['a', 'approve'],
  ['r', 'reject'],
];

/** @param {import('../app.js').ViewContext} ctx */
export async function renderReviews({ root }) {
  /** @type {{ items: Action[], next_cursor: string | null }} */
  const first = await get('/v1/reviews?limit=100');
  /** @type {Action[]} */
  let items = first.items;
  // The queue shows the oldest 100; past that the count says so rather than guess.
  const more = first.next_cursor !== null;
  let selected = 0;
  let busy = false;
  const list = h('ol', { 'aria-label': 'Pending actions, oldest first' });
  const detail = h('section', { class: 'detail', 'aria-live': 'polite', 'aria-busy': 'false' });
  const notice = h('div', { role: 'alert' });
  const summary = h('p', { class: 'muted' });

  replace(
    root,
    h('h1', null, 'Review queue'),
    summary,
    h(
      'p',
      { class: 'muted' },
      'Keyboard: ',
      SHORTCUTS.map(([key, what], i) => [i ? ', ' : '', h('kbd', null, key), ` ${what}`]),
      ' (outside text fields).',
    ),
    notice,
    h('div', { class: 'queue' }, h('nav', { 'aria-label': 'Pending actions' }, list), detail),
  );

  function drawList() {
    const oldest = items[0] ? ageSeconds(items[0].created_at) : 0;
    summary.textContent = items.length
      ? `${items.length}${more ? '+' : ''} pending, the oldest ${duration(oldest)} old (review SLO: 15 min).`
      : 'Nothing is waiting for review.';
    replace(
      list,
      items.map((item, i) =>
        h(
          'li',
          null,
          h(
            'button',
            {
              type: 'button',
              'aria-current': i === selected ? 'true' : 'false',
              dataset: { actionId: item.id },
              onclick: () => select(i),
            },
            h('strong', null, item.tool),
            ' ',
            slaBadge(ageSeconds(item.created_at)),
            h('br'),
            h(
              'span',
              { class: 'muted' },
              item.decision.reasons.map((r) => r.code).join(', ') || 'no reasons',
            ),
          ),
        ),
      ),
    );
  }

  /** @param {number} index */
  async function select(index) {
    if (!items.length) {
      selected = 0;
      drawList();
      replace(detail, h('p', null, 'The queue is empty. New proposals that need a human appear here.'));
      return;
    }
    selected = Math.max(0, Math.min(index, items.length - 1));
    drawList();
    const item = /** @type {Action} */ (items[selected]);
    detail.setAttribute('aria-busy', 'true');
    /** @type {{ context: Record<string, never> }} */
    let extra = { context: {} };
    try {
      extra = await get(`/v1/actions/${item.id}/details`);
    } catch (err) {
      if (!(err instanceof ApiError && err.status === 404)) throw err;
    }
    if (items[selected] !== item) return;
    const note = h('textarea', { id: 'review-note', rows: 2, maxlength: 2000 });
    replace(
      detail,
      h('h2', null, item.tool, ' ', statusBadge(item.status)),
      h(
        'p',
        null,
        `User ${item.user_id} · risk ${item.decision.risk_score} · `,
        h('a', { href: `#/actions/${item.id}` }, 'full detail'),
      ),
      h('h3', null, 'Why it is here'),
      reasonList(item.decision.reasons),
      h('h3', null, 'Arguments'),
      argumentFields(item.arguments, item.decision.reasons, extra.context),
      contextSections(extra.context, item.decision.reasons),
      h('label', { for: 'review-note' }, 'Note (optional, kept in the audit log)'),
      note,
      h(
        'div',
        { class: 'actions-row' },
        h(
          'button',
          { type: 'button', class: 'primary', id: 'approve', onclick: () => decide('approve') },
          'Approve (a)',
        ),
        h(
          'button',
          { type: 'button', class: 'danger', id: 'reject', onclick: () => decide('reject') },
          'Reject (r)',
        ),
      ),
    );
    detail.setAttribute('aria-busy', 'false');
  }

  /** @param {'approve' | 'reject'} decision */
  async function decide(decision) {
    const item = items[selected];
    if (!item || busy) return;
    busy = true;
    const noteField = /** @type {HTMLTextAreaElement | null} */ (detail.querySelector('#review-note'));
    const note = noteField?.value.trim();
    try {
      const done = await api('POST', `/v1/reviews/${item.id}`, note ? { decision, note } : { decision });
      replace(
        notice,
        h(
          'p',
          { class: 'notice ok' },
          `${decision === 'approve' ? 'Approved' : 'Rejected'} ${item.tool} (${item.id}): now ${done.status}.`,
        ),
      );
    } catch (err) {
      if (!(err instanceof ApiError) || err.status !== 409) {
        busy = false;
        replace(
          notice,
          h(
            'p',
            { class: 'notice bad' },
            `Could not ${decision}: ${String(/** @type {Error} */ (err).message)}`,
          ),
        );
        return;
      }
      // Someone else decided first: say so plainly and show what it became.
      const current = await get(`/v1/actions/${item.id}`).catch(() => null);
      replace(
        notice,
        h(
          'p',
          { class: 'notice bad', dataset: { conflict: 'true' } },
          `Conflict (409 ${err.code}): another reviewer already decided this ${item.tool} action`,
          current ? `; it is now ${current.status}.` : '.',
          ' Your decision was not recorded.',
        ),
      );
    }
    items = items.filter((i) => i.id !== item.id);
    busy = false;
    await select(selected);
  }

  /** @param {KeyboardEvent} event */
  function onKey(event) {
    const target = /** @type {HTMLElement} */ (event.target);
    if (event.altKey || event.ctrlKey || event.metaKey || target.closest('input, textarea, select, dialog'))
      return;
    const handlers = {
      j: () => select(selected + 1),
      k: () => select(selected - 1),
      a: () => decide('approve'),
      r: () => decide('reject'),
    };
    const handler = handlers[/** @type {'j'} */ (event.key)];
    if (!handler) return;
    event.preventDefault();
    void handler();
  }

  document.addEventListener('keydown', onKey);
  await select(0);
  return () => document.removeEventListener('keydown', onKey);
}
