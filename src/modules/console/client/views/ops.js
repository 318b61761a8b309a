import { ApiError, api, get } from '../api.js';
import { duration, h, replace, table, time } from '../dom.js';

const REFRESH_MS = 5_000;

/** @param {import('../app.js').ViewContext} ctx */
export async function renderOps({ root, me }) {
  const state = h('div');
  const flagsBox = h('div');
  const deadBox = h('div');
  const notice = h('div', { role: 'alert' });
  const dialog = /** @type {HTMLDialogElement} */ (h('dialog', { 'aria-labelledby': 'confirm-title' }));
  replace(
    root,
    h('h1', null, 'Operations'),
    notice,
    h('h2', null, 'Health'),
    state,
    h('h2', null, `Kill switches and rollout gate for tenant ${me.tenant}`),
    h(
      'p',
      { class: 'muted' },
      'Changes here apply to your tenant only, and only towards safety: turning a kill switch off or the gate on ',
      'removes your tenant’s own value, so a global value an operator set still applies. Global values are an ',
      'operator action: ',
      h('code', null, 'npm run --silent cli -- flags set <name> on|off'),
      '.',
    ),
    flagsBox,
    h('h2', null, 'Dead letters'),
    deadBox,
    dialog,
  );

  async function load() {
    const [overview, flags, dead] = await Promise.all([
      get('/v1/ops/overview'),
      get('/v1/ops/flags'),
      get('/v1/ops/dead-letters?limit=50'),
    ]);
    drawOverview(overview, dead.total);
    drawFlags(flags.items, flags.provider);
    drawDeadLetters(dead);
  }

  /** @param {any} o @param {number} deadLetters */
  function drawOverview(o, deadLetters) {
    const review = o.reviews;
    const tile = (
      /** @type {string} */ label,
      /** @type {string} */ value,
      /** @type {string} */ note,
      tone = '',
    ) =>
      h(
        'div',
        { class: 'tile' },
        h('div', null, label),
        h('div', { class: `value ${tone}` }, value),
        h('div', { class: 'muted' }, note),
      );
    replace(
      state,
      h(
        'div',
        { class: 'tiles' },
        tile(
          'Execution queue',
          String(o.queue.waiting + o.queue.prioritized),
          `waiting; ${o.queue.active} active, ${o.queue.delayed} delayed · oldest ${duration(o.queue.oldest_waiting_age_seconds)}`,
        ),
        tile('Outbox lag', duration(o.outbox.oldest_age_seconds), `${o.outbox.pending} unpublished row(s)`),
        ...o.breakers.map((/** @type {any} */ b) =>
          h(
            'div',
            { class: 'tile' },
            h('div', null, `Breaker: ${b.dependency}`),
            h(
              'div',
              { class: 'value' },
              h(
                'span',
                { class: `badge ${b.state === 'closed' ? 'ok' : 'bad'}`, id: `breaker-${b.dependency}` },
                b.state,
              ),
            ),
            h('div', { class: 'muted' }, 'as seen by this API process'),
          ),
        ),
        tile(
          'Pending reviews',
          String(review.pending),
          `oldest ${duration(review.oldest_age_seconds)} (SLO ${duration(review.slo_seconds)})`,
        ),
        tile('Dead letters', String(deadLetters), 'for your tenant'),
      ),
      h(
        'p',
        { class: 'muted' },
        'Queue, outbox and breaker are service-wide; reviews and dead letters are your tenant’s. Updated ',
        time(o.generated_at),
        `; refreshes every ${REFRESH_MS / 1000} s.`,
      ),
    );
  }

  /** @param {any[]} items @param {string} provider */
  function drawFlags(items, provider) {
    replace(
      flagsBox,
      table(
        `Flags (provider ${provider})`,
        ['Flag', 'What it does', 'For your tenant', 'Your value', 'Global', ''],
        items.map((f) => {
          const on = f.effective;
          const next = !on;
          const label = `Turn ${next ? 'on' : 'off'}`;
          return h(
            'tr',
            { dataset: { flag: f.name } },
            h('th', { scope: 'row' }, h('code', null, f.name)),
            h('td', null, f.description),
            h(
              'td',
              null,
              h(
                'span',
                { class: `badge ${f.kind === 'kill_switch' ? (on ? 'bad' : 'ok') : on ? 'ok' : 'warn'}` },
                on ? 'on' : 'off',
              ),
            ),
            h('td', null, f.tenant_value === null ? 'not set' : f.tenant_value ? 'on' : 'off'),
            h('td', null, f.global_value ? 'on' : 'off'),
            h(
              'td',
              null,
              h(
                'button',
                {
                  type: 'button',
                  'aria-label': `${label} ${f.name} for ${me.tenant}`,
                  onclick: () => confirmFlip(f, next),
                },
                label,
              ),
            ),
          );
        }),
      ),
    );
  }

  /** @param {any} flag @param {boolean} enabled */
  function confirmFlip(flag, enabled) {
    const blast = flag.blast_radius;
    const verb = `Turn ${enabled ? 'on' : 'off'} ${flag.name} for ${blast.tenant}`;
    const confirm = h('button', { type: 'button', class: 'danger', id: 'confirm-flip' }, verb);
    const cancel = h('button', { type: 'button' }, 'Cancel');
    replace(
      dialog,
      h('h2', { id: 'confirm-title' }, `${verb}?`),
      h('h3', null, 'Blast radius'),
      h('p', { id: 'blast-radius' }, enabled ? blast.if_enabled : blast.if_disabled),
      h('p', { class: 'muted' }, `Tools: ${blast.tools.join(', ')} · tenant ${blast.tenant} only.`),
      h('div', { class: 'actions-row' }, confirm, cancel),
    );
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', async () => {
      confirm.setAttribute('disabled', '');
      try {
        const after = await api('PUT', `/v1/ops/flags/${encodeURIComponent(flag.name)}`, { enabled });
        dialog.close();
        const stillOn = !enabled && after.kind === 'kill_switch' && after.effective;
        replace(
          notice,
          h(
            'p',
            { class: `notice ${stillOn ? 'warn' : 'ok'}` },
            `${flag.name} is now ${after.effective ? 'on' : 'off'} for ${blast.tenant}.`,
            stillOn ? ' It is on globally: only an operator can lift it (CLI).' : '',
          ),
        );
        await load();
      } catch (err) {
        dialog.close();
        replace(
          notice,
          h(
            'p',
            { class: 'notice bad' },
            `Not changed: ${err instanceof ApiError ? `${err.status} ${err.code}: ` : ''}${String(/** @type {Error} */ (err).message)}`,
          ),
        );
      }
    });
    dialog.showModal();
    cancel.focus();
  }

  /** @param {{ items: any[], total: number }} dead */
  function drawDeadLetters(dead) {
    if (!dead.items.length) {
      replace(
        deadBox,
        h(
          'p',
          { class: 'muted' },
          'No dead letters: every execution either succeeded or is still being retried.',
        ),
      );
      return;
    }
    replace(
      deadBox,
      h(
        'p',
        { class: 'muted' },
        `${dead.total} dead letter(s). Replaying queues the action again through the outbox; fix the cause first.`,
      ),
      table(
        'Dead letters',
        ['Job', 'Action', 'Attempts', 'Why it failed', 'Failed at', ''],
        dead.items.map((d) =>
          h(
            'tr',
            { dataset: { job: d.job_id } },
            h('td', { class: 'mono' }, d.job_id),
            h(
              'td',
              null,
              h('a', { href: `#/actions/${d.action_id}`, class: 'mono' }, d.action_id.slice(0, 8)),
            ),
            h('td', null, String(d.attempts)),
            h('td', null, d.failed_reason),
            h('td', null, d.failed_at ? time(d.failed_at) : '—'),
            h(
              'td',
              null,
              h(
                'div',
                { class: 'actions-row' },
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Replay dead letter ${d.job_id}`,
                    onclick: () => replay(d),
                  },
                  'Replay',
                ),
                h(
                  'button',
                  {
                    type: 'button',
                    'aria-label': `Discard dead letter ${d.job_id}`,
                    onclick: () => confirmDiscard(d),
                  },
                  'Discard',
                ),
              ),
            ),
          ),
        ),
      ),
    );
  }

  // Discarding is final: the action stays failed and no replay picks it up, so it is confirmed.
  /** @param {{ job_id: string, action_id: string }} d */
  function confirmDiscard(d) {
    const reason = /** @type {HTMLInputElement} */ (h('input', { id: 'discard-reason', maxlength: 2000 }));
    const confirm = h('button', { type: 'button', class: 'danger', id: 'confirm-discard' }, 'Discard');
    const cancel = h('button', { type: 'button' }, 'Cancel');
    replace(
      dialog,
      h('h2', { id: 'confirm-title' }, `Discard dead letter ${d.job_id}?`),
      h(
        'p',
        null,
        'Its action stays failed with code discarded and is never replayed, not even by a bulk replay.',
      ),
      h('label', { for: 'discard-reason' }, 'Reason (kept in the audit log)'),
      reason,
      h('div', { class: 'actions-row' }, confirm, cancel),
    );
    cancel.addEventListener('click', () => dialog.close());
    confirm.addEventListener('click', async () => {
      confirm.setAttribute('disabled', '');
      const text = reason.value.trim();
      try {
        const result = await api(
          'POST',
          `/v1/ops/dead-letters/${encodeURIComponent(d.job_id)}/discard`,
          text ? { reason: text } : {},
        );
        replace(notice, h('p', { class: 'notice ok' }, `Dead letter ${d.job_id}: ${result.detail}.`));
      } catch (err) {
        replace(
          notice,
          h('p', { class: 'notice bad' }, `Not discarded: ${String(/** @type {Error} */ (err).message)}`),
        );
      }
      dialog.close();
      await load();
    });
    dialog.showModal();
    cancel.focus();
  }

  /** @param {{ job_id: string, action_id: string }} d */
  async function replay(d) {
    try {
      const result = await api('POST', `/v1/ops/dead-letters/${encodeURIComponent(d.job_id)}/replay`, {});
      replace(
        notice,
        h(
          'p',
          { class: `notice ${result.replayed ? 'ok' : 'warn'}` },
          `Dead letter ${d.job_id}: ${result.detail}.`,
          ' ',
          h('a', { href: `#/actions/${d.action_id}` }, 'Follow the action'),
        ),
      );
    } catch (err) {
      replace(
        notice,
        h('p', { class: 'notice bad' }, `Replay failed: ${String(/** @type {Error} */ (err).message)}`),
      );
    }
    await load();
  }

  await load();
  const timer = setInterval(() => {
    if (!dialog.open) load().catch(() => undefined);
  }, REFRESH_MS);
  return () => clearInterval(timer);
}
