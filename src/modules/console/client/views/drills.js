import { ApiError, get } from '../api.js';
import { ageSeconds, duration, h, link, replace, table, time } from '../dom.js';

const REFRESH_MS = 3_000;

/** @param {import('../app.js').ViewContext} ctx */
export async function renderDrills({ root }) {
  const body = h('div');
  replace(root, h('h1', null, 'Drills'), body);

  async function load() {
    const [current, alerts] = await Promise.all([
      optional('/v1/drills/current'),
      optional('/v1/alerts?state=firing&limit=20'),
    ]);
    const parts = [];
    if (current === undefined) {
      parts.push(h('p', { class: 'notice warn' }, 'This server has no drill API (GET /v1/drills/current).'));
    } else if (!current.drill) {
      parts.push(
        h(
          'p',
          { id: 'no-drill' },
          'No drill is running. Start one with ',
          h('code', null, 'npm run --silent cli -- drill start <scenario>'),
          ' (',
          h('code', null, 'drill list'),
          ' names them).',
        ),
      );
    } else {
      parts.push(...drill(current.drill));
    }
    parts.push(h('h2', null, 'Firing alerts'));
    parts.push(
      alerts === undefined
        ? h('p', { class: 'muted' }, 'This server has no alert inbox (GET /v1/alerts).')
        : alertTable(alerts.items ?? []),
    );
    replace(body, parts);
  }

  await load();
  const timer = setInterval(() => load().catch(() => undefined), REFRESH_MS);
  return () => clearInterval(timer);
}

/** A 404 means the endpoint is not there (an older server); anything else is an error. @param {string} path */
async function optional(path) {
  try {
    return await get(path);
  } catch (err) {
    if (err instanceof ApiError && err.status === 404 && err.code === 'not_found') return undefined;
    throw err;
  }
}

/** @param {any} d */
function drill(d) {
  const parts = [
    h('h2', { id: 'drill-scenario' }, `Scenario: ${d.scenario}`),
    h(
      'p',
      null,
      h('span', { class: `badge ${d.state === 'running' ? 'warn' : 'ok'}`, id: 'drill-state' }, d.state),
      ' started ',
      time(d.started_at),
      ` (${duration(ageSeconds(d.started_at))} ago)`,
    ),
  ];
  if (d.symptom) parts.push(h('p', null, h('strong', null, 'Symptom: '), d.symptom));
  if (d.expected_alert)
    parts.push(h('p', null, h('strong', null, 'Expect the alert: '), h('code', null, d.expected_alert)));
  if (d.runbook_url)
    parts.push(h('p', null, h('strong', null, 'Runbook: '), link(d.runbook_url, d.runbook_url)));
  parts.push(h('h2', null, 'Timeline'));
  parts.push(
    d.timeline?.length
      ? h(
          'ol',
          { class: 'timeline', id: 'drill-timeline' },
          d.timeline.map((/** @type {any} */ t) =>
            h('li', null, time(t.at), ' ', h('code', null, t.kind), ' ', t.message),
          ),
        )
      : h('p', { class: 'muted' }, 'Nothing recorded yet.'),
  );
  if (d.alerts?.length) {
    parts.push(h('h2', null, 'Alerts of this drill'), alertTable(d.alerts));
  }
  parts.push(h('h2', null, 'Check'));
  if (!d.check) {
    parts.push(
      h(
        'p',
        { class: 'muted' },
        'Not checked yet: run ',
        h('code', null, 'npm run --silent cli -- drill check'),
        ' once you have mitigated.',
      ),
    );
  } else {
    parts.push(
      h(
        'p',
        { class: `notice ${d.check.passed ? 'ok' : 'bad'}`, id: 'drill-check' },
        d.check.passed ? 'Recovered: every check passed.' : 'Not recovered yet.',
      ),
      h(
        'ul',
        null,
        d.check.checks.map((/** @type {any} */ c) =>
          h(
            'li',
            null,
            h('span', { class: `badge ${c.passed ? 'ok' : 'bad'}` }, c.passed ? 'pass' : 'fail'),
            ` ${c.name}`,
            c.detail ? h('span', { class: 'muted' }, ` — ${c.detail}`) : null,
          ),
        ),
      ),
    );
  }
  if (d.score) {
    const s = d.score;
    const secs = (/** @type {number | null} */ v) => (v === null || v === undefined ? '—' : duration(v));
    parts.push(
      h('h2', null, 'Score'),
      h(
        'dl',
        { class: 'fields', id: 'drill-score' },
        h('dt', null, 'Time to detect'),
        h('dd', null, secs(s.time_to_detect_s)),
        h('dt', null, 'Time to mitigate'),
        h('dd', null, secs(s.time_to_mitigate_s)),
        h('dt', null, 'Wrong actions'),
        h('dd', null, String(s.wrong_actions ?? 0)),
      ),
    );
  }
  return parts;
}

/** @param {any[]} alerts */
function alertTable(alerts) {
  if (!alerts.length) return h('p', { class: 'muted', id: 'no-alerts' }, 'No alert is firing.');
  return table(
    'Firing alerts',
    ['Alert', 'State', 'Severity', 'Since', 'Runbook'],
    alerts.map((a) =>
      h(
        'tr',
        null,
        h('td', null, h('code', null, a.name ?? a.alertname ?? '?')),
        h('td', null, h('span', { class: `badge ${a.state === 'firing' ? 'bad' : 'ok'}` }, a.state ?? '?')),
        h('td', null, a.severity ?? '—'),
        h('td', null, (a.since ?? a.starts_at) ? time(a.since ?? a.starts_at) : '—'),
        h('td', null, a.runbook_url ? link(a.runbook_url, 'runbook') : '—'),
      ),
    ),
    { id: 'alerts' },
  );
}
