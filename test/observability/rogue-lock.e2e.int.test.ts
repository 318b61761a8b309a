import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startObservedService, type ObservedService } from '../helpers/service-roles.ts';
import { waitFor } from '../helpers/test-env.ts';
import { readBlocks } from '../runbooks/runbook-steps.ts';

// The db-slow-queries fault end to end: a transaction left idle holding a row lock on the
// tenant, under steady proposal traffic, watched by a real Prometheus (shipped rules, 1 s
// scrape and evaluation) and Alertmanager. AirlockAvailabilityBudgetBurnFast must fire and
// be delivered; the blocker is then found with the availability runbook's own query and
// ended with pg_terminate_backend, proposals must succeed again and the burn must stop.
// Slow by design (the 5-minute window must forget the errors): run in its own CI step.

const MINUTE = 60_000;
const TRAFFIC_PER_SECOND = 10;
const MAX_IN_FLIGHT = 40;
const ALERT = 'AirlockAvailabilityBudgetBurnFast';

let service: ObservedService;
const stopTraffic = new AbortController();
const outcomes: { at: number; status: number }[] = [];

// Bounded background traffic against 127.0.0.1 only: TRAFFIC_PER_SECOND proposals a second,
// at most MAX_IN_FLIGHT at once, until the test stops it or 12 minutes pass.
async function driveTraffic(signal: AbortSignal): Promise<void> {
  const until = Date.now() + 12 * MINUTE;
  let inFlight = 0;
  while (!signal.aborted && Date.now() < until) {
    if (inFlight < MAX_IN_FLIGHT) {
      inFlight += 1;
      void service
        .propose()
        .then(
          (response) => outcomes.push({ at: Date.now(), status: response.status }),
          () => outcomes.push({ at: Date.now(), status: 0 }),
        )
        .finally(() => (inFlight -= 1));
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000 / TRAFFIC_PER_SECOND));
  }
}

let traffic: Promise<void>;
beforeAll(async () => {
  // Requests waiting on the lock give up after 2 s, as a client's timeout would.
  service = await startObservedService({ REQUEST_DEADLINE_MS: '2000' });
  traffic = driveTraffic(stopTraffic.signal);
}, 3 * MINUTE);
afterAll(async () => {
  stopTraffic.abort();
  await traffic;
  await service?.stop();
}, MINUTE);

// The runbook's "blockers" query, as written in AirlockAvailabilityBudgetBurnFast.md.
const blockersQuery = readBlocks('AirlockAvailabilityBudgetBurnFast.md').find(
  (b) => b.info === 'runnable' && b.body.includes('unnest(pg_blocking_pids(pid))'),
)!.body;

describe('a rogue lock on the write path, end to end with Prometheus and Alertmanager', () => {
  it(
    'when a transaction holds the tenant row, then the availability fast burn pages, and ending the blocker as the runbook says stops the burn',
    async () => {
      // Enough traffic for the long window's guard (0.1 requests/s over 1 h).
      await waitFor(
        async () =>
          (await service.prometheus.query('airlock:slo_requests:rate1h{slo="availability"} > 0.1')).length ===
          1,
        { timeoutMs: 3 * MINUTE, intervalMs: 1_000, what: 'the 1h request rate above the guard' },
      );
      expect(await service.active(ALERT)).toBe(false);

      const rogue = new pg.Client({
        connectionString: service.databaseUrl,
        application_name: 'backfill-e2e',
      });
      rogue.on('error', () => undefined); // terminated below, as the runbook says
      await rogue.connect();
      await rogue.query('BEGIN');
      await rogue.query('SELECT id FROM tenants WHERE slug = $1 FOR UPDATE', ['acme']);
      const lockedAt = Date.now();

      const fired = await waitFor(() => service.firing(ALERT), {
        timeoutMs: 5 * MINUTE,
        intervalMs: 1_000,
        what: `${ALERT} firing in Prometheus`,
      });
      const firedAfterMs = Date.now() - lockedAt;
      expect(fired.labels.severity).toBe('page');
      expect(fired.annotations.runbook_url).toBe(`${service.apiUrl}/runbooks/${ALERT}.md`);
      await waitFor(async () => service.delivered(ALERT, 'firing'), {
        timeoutMs: MINUTE,
        intervalMs: 500,
        what: 'Alertmanager delivering the page',
      });
      const failing = outcomes.filter((o) => o.at > lockedAt && o.status >= 500).length;
      expect(failing).toBeGreaterThan(0);

      // The mitigation, with the runbook's own query: find the blocker, end it.
      const admin = new pg.Client({ connectionString: service.databaseUrl });
      await admin.connect();
      try {
        const { rows } = await admin.query<{ pid: number; application_name: string; state: string }>(
          blockersQuery,
        );
        const blocker = rows.find((r) => r.application_name === 'backfill-e2e');
        expect(blocker?.state).toBe('idle in transaction');
        await admin.query('SELECT pg_terminate_backend($1)', [blocker!.pid]);
      } finally {
        await admin.end();
      }
      const mitigatedAt = Date.now();
      await waitFor(async () => outcomes.some((o) => o.at > mitigatedAt + 3_000 && o.status === 201), {
        timeoutMs: MINUTE,
        what: 'proposals succeeding again',
      });

      // The burn stops: the 5-minute window, the pair that tracks "still burning now", drops
      // under the page threshold. (The page itself then resolves once the 30-minute window of
      // the 6h/30m pair is under 0.6% too; on a Prometheus with only minutes of history that
      // window holds the whole incident, so it takes up to half an hour, too long for a test.)
      await waitFor(
        async () =>
          (
            await service.prometheus.query(
              'airlock:slo_errors:ratio_rate5m{slo="availability"} < (14.4 * 0.001) and airlock:slo_requests:rate5m{slo="availability"} > 0.1',
            )
          ).length === 1,
        { timeoutMs: 7 * MINUTE, intervalMs: 2_000, what: 'the 5-minute burn under the page threshold' },
      );
      const burnStoppedAfterMs = Date.now() - mitigatedAt;
      console.info(
        `[e2e rogue-lock] ${ALERT} firing ${(firedAfterMs / 1000).toFixed(1)} s after the lock ` +
          `(${failing} proposals had failed); the 5-minute burn under the threshold ` +
          `${(burnStoppedAfterMs / 1000).toFixed(1)} s after the blocker was terminated`,
      );
    },
    12 * MINUTE,
  );
});
