import type { Queryable } from '../../platform/db.ts';
import type { CheckResult, TimelineEntry } from './drill-types.ts';

export type DrillState = 'running' | 'passed' | 'stopped' | 'expired';

export interface TrafficStats {
  sent: number;
  ok: number;
  client_errors: number;
  server_errors: number;
  timeouts: number;
  skipped: number;
}

export interface DrillScore {
  time_to_fire_s: number | null;
  time_to_detect_s: number | null;
  time_to_mitigate_s: number | null;
  time_to_recover_s: number | null;
  wrong_actions: number;
}

export interface Drill {
  id: string;
  scenario: string;
  state: DrillState;
  tenantSlug: string;
  tenantId: string | null;
  startedAt: Date;
  deadlineAt: Date;
  endedAt: Date | null;
  runnerPid: number | null;
  runnerHeartbeatAt: Date | null;
  traffic: TrafficStats | null;
  detectedAt: Date | null;
  passedAt: Date | null;
  score: DrillScore | null;
  postmortemPath: string | null;
}

export interface DrillCheck {
  at: Date;
  passed: boolean;
  checks: CheckResult[];
}

// A timeline is bounded like everything else: a runaway recorder stops being recorded.
export const MAX_TIMELINE_ENTRIES = 2_000;
const MAX_MESSAGE_CHARS = 2_000;

const COLUMNS = `id, scenario, state, tenant_slug AS "tenantSlug", tenant_id AS "tenantId",
  started_at AS "startedAt", deadline_at AS "deadlineAt", ended_at AS "endedAt",
  runner_pid AS "runnerPid", runner_heartbeat_at AS "runnerHeartbeatAt", traffic,
  detected_at AS "detectedAt", passed_at AS "passedAt", score, postmortem_path AS "postmortemPath"`;

// Fails with a unique violation (23505) on drills_one_active_idx when a drill is active.
export async function insertDrill(
  db: Queryable,
  drill: { scenario: string; tenantSlug: string; maxDurationMs: number },
): Promise<Drill> {
  const { rows } = await db.query<Drill>(
    `INSERT INTO drills (scenario, tenant_slug, deadline_at)
     VALUES ($1, $2, now() + $3 * interval '1 millisecond')
     RETURNING ${COLUMNS}`,
    [drill.scenario, drill.tenantSlug, drill.maxDurationMs],
  );
  return rows[0]!;
}

export async function findActiveDrill(
  db: Queryable,
  options: { lock?: boolean } = {},
): Promise<Drill | null> {
  const { rows } = await db.query<Drill>(
    `SELECT ${COLUMNS} FROM drills WHERE ended_at IS NULL${options.lock ? ' FOR UPDATE' : ''}`,
  );
  return rows[0] ?? null;
}

export async function findDrill(
  db: Queryable,
  id: string,
  options: { lock?: boolean } = {},
): Promise<Drill | null> {
  const { rows } = await db.query<Drill>(
    `SELECT ${COLUMNS} FROM drills WHERE id = $1${options.lock ? ' FOR UPDATE' : ''}`,
    [id],
  );
  return rows[0] ?? null;
}

export async function setDrillTenant(db: Queryable, id: string, tenantId: string): Promise<void> {
  await db.query('UPDATE drills SET tenant_id = $2 WHERE id = $1', [id, tenantId]);
}

// The runner's heartbeat: returns the drill's state, so the runner learns it was stopped.
export async function beatRunner(
  db: Queryable,
  id: string,
  beat: { pid: number; traffic?: TrafficStats },
): Promise<DrillState | null> {
  const { rows } = await db.query<{ state: DrillState }>(
    `UPDATE drills SET runner_pid = $2, runner_heartbeat_at = now(), traffic = COALESCE($3, traffic)
      WHERE id = $1 RETURNING state`,
    [id, beat.pid, beat.traffic ? JSON.stringify(beat.traffic) : null],
  );
  return rows[0]?.state ?? null;
}

export async function markDetected(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    'UPDATE drills SET detected_at = now() WHERE id = $1 AND detected_at IS NULL',
    [id],
  );
  return rowCount === 1;
}

export async function markPassed(db: Queryable, id: string): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE drills SET state = 'passed', passed_at = now() WHERE id = $1 AND state = 'running'`,
    [id],
  );
  return rowCount === 1;
}

// Ends the drill: it no longer blocks a new one, and its keys are forgotten.
export async function markEnded(db: Queryable, id: string, state: 'stopped' | 'expired'): Promise<void> {
  await db.query('UPDATE drills SET state = $2, ended_at = now() WHERE id = $1 AND ended_at IS NULL', [
    id,
    state,
  ]);
}

export async function saveOutcome(
  db: Queryable,
  id: string,
  outcome: { score: DrillScore; postmortemPath: string | null },
): Promise<void> {
  await db.query('UPDATE drills SET score = $2, postmortem_path = $3 WHERE id = $1', [
    id,
    JSON.stringify(outcome.score),
    outcome.postmortemPath,
  ]);
}

// Returns false when the timeline is full and the entry was not recorded.
export async function appendEvent(
  db: Queryable,
  drillId: string,
  entry: { kind: string; message: string; data?: Record<string, unknown> },
): Promise<boolean> {
  const { rowCount } = await db.query(
    `INSERT INTO drill_events (drill_id, kind, message, data)
     SELECT $1, $2, $3, $4
      WHERE (SELECT count(*) FROM drill_events WHERE drill_id = $1) < $5`,
    [
      drillId,
      entry.kind,
      entry.message.slice(0, MAX_MESSAGE_CHARS),
      entry.data ? JSON.stringify(entry.data) : null,
      MAX_TIMELINE_ENTRIES,
    ],
  );
  return rowCount === 1;
}

export async function listEvents(db: Queryable, drillId: string): Promise<TimelineEntry[]> {
  const { rows } = await db.query<{
    at: Date;
    kind: string;
    message: string;
    data: Record<string, unknown> | null;
  }>('SELECT at, kind, message, data FROM drill_events WHERE drill_id = $1 ORDER BY id LIMIT $2', [
    drillId,
    MAX_TIMELINE_ENTRIES,
  ]);
  return rows.map((row) => ({
    at: row.at.toISOString(),
    kind: row.kind,
    message: row.message,
    ...(row.data ? { data: row.data } : {}),
  }));
}

export async function insertCheck(
  db: Queryable,
  drillId: string,
  check: { passed: boolean; checks: CheckResult[] },
): Promise<void> {
  await db.query('INSERT INTO drill_checks (drill_id, passed, checks) VALUES ($1, $2, $3)', [
    drillId,
    check.passed,
    JSON.stringify(check.checks),
  ]);
}

export async function findLastCheck(db: Queryable, drillId: string): Promise<DrillCheck | null> {
  const { rows } = await db.query<DrillCheck>(
    'SELECT at, passed, checks FROM drill_checks WHERE drill_id = $1 ORDER BY id DESC LIMIT 1',
    [drillId],
  );
  return rows[0] ?? null;
}

// The drill tenant's keys stop working when the drill ends.
export async function revokeTenantKeys(db: Queryable, tenantId: string): Promise<number> {
  const { rowCount } = await db.query(
    'UPDATE api_keys SET revoked_at = now() WHERE tenant_id = $1 AND revoked_at IS NULL',
    [tenantId],
  );
  return rowCount ?? 0;
}

// Flag flips in the drill tenant's audit chain since the drill started, by whoever made them.
export async function findFlagChanges(
  db: Queryable,
  tenantId: string,
  since: Date,
): Promise<Array<{ at: Date; actor: string; flag: string; enabled: boolean | null }>> {
  const { rows } = await db.query<{ at: Date; actor: string; flag: string; enabled: boolean | null }>(
    `SELECT created_at AS at, actor, data->>'flag' AS flag, (data->>'enabled')::boolean AS enabled
       FROM audit_events
      WHERE tenant_id = $1 AND type IN ('flag.changed', 'flag.cleared') AND created_at >= $2
      ORDER BY created_at LIMIT 1000`,
    [tenantId, since],
  );
  return rows;
}
