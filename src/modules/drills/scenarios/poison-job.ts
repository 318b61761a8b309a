import { randomUUID } from 'node:crypto';
import { withTransaction } from '../../../platform/db.ts';
import { appendAuditEvent } from '../../audit/audit.repository.ts';
import { enqueueOutboxMessage, EXECUTE_ACTION_TOPIC } from '../../outbox/outbox.repository.ts';
import type { CheckResult, DrillContext, DrillScenario } from '../drill-types.ts';

// A producer bug: an integration that writes actions straight into the database (a
// backfill, an old client version behind a migration) queues a note with no title. The API
// would have refused it; the worker cannot. The notes tool throws on it at every attempt
// (a NOT NULL violation) and the job ends in the dead-letter store. The runbook's lesson:
// read the dead letters before redriving them. Quarantine the poison one (dlq discard) so no
// bulk replay picks it up again, then replay the rest (dlq replay --all).

const POISON_KIND = 'fault.poison';

interface Poison {
  actionId: string;
  jobId: string;
}

async function poisonOf(ctx: DrillContext): Promise<Poison | undefined> {
  const entry = (await ctx.timeline()).find((e) => e.kind === POISON_KIND);
  const data = entry?.data as { action_id?: unknown; job_id?: unknown } | undefined;
  return typeof data?.action_id === 'string' && typeof data.job_id === 'string'
    ? { actionId: data.action_id, jobId: data.job_id }
    : undefined;
}

async function deadLettersOf(ctx: DrillContext, actionId: string) {
  const { rows } = await ctx.pool.query<{ job_id: string; state: 'open' | 'replayed' | 'discarded' }>(
    'SELECT job_id, state FROM dead_letters WHERE tenant_id = $1 AND action_id = $2 ORDER BY failed_at',
    [ctx.tenant.id, actionId],
  );
  return rows;
}

export const poisonJob: DrillScenario = {
  name: 'poison-job',
  symptom:
    'One action keeps failing at every attempt and lands in the dead-letter queue; replaying it fails again.',
  alert: 'AirlockDeadLettersGrowing',
  // Five attempts with backoff (seconds), then two scrapes and an evaluation.
  fireWithinSeconds: 120,
  runbook: 'runbooks/AirlockDeadLettersGrowing.md',
  mitigation:
    'Find the poison job in dlq list, quarantine it (dlq discard <job-id> --reason ...), then replay the rest (dlq replay --all --tenant <drill tenant>).',

  async inject(ctx) {
    const actionId = randomUUID();
    const now = new Date();
    const outboxId = await withTransaction(ctx.pool, async (tx) => {
      await tx.query(
        `INSERT INTO actions (id, tenant_id, tool, arguments, user_id, context, status, decision,
                              attempts, version, queued_at, created_at, updated_at)
         VALUES ($1, $2, 'notes.create', $3, 'drill-producer', '{}'::jsonb, 'queued', $4, 0, 1, $5, $5, $5)`,
        [
          actionId,
          ctx.tenant.id,
          // The malformed payload: no title at all.
          JSON.stringify({ body: 'Imported by the nightly sync.' }),
          JSON.stringify({ outcome: 'allow', risk_score: 0, reasons: [] }),
          now,
        ],
      );
      await appendAuditEvent(tx, {
        tenantId: ctx.tenant.id,
        actionId,
        type: 'action.proposed',
        actor: 'drill',
        data: { tool: 'notes.create', user_id: 'drill-producer', status: 'queued', source: 'direct write' },
      });
      return enqueueOutboxMessage(tx, {
        tenantId: ctx.tenant.id,
        actionId,
        topic: EXECUTE_ACTION_TOPIC,
        payload: {},
      });
    });
    await ctx.record(
      POISON_KIND,
      'A note without a title was queued behind the API, straight into the database.',
      {
        action_id: actionId,
        job_id: `outbox-${outboxId}`,
      },
    );
  },

  async mitigationObserved(ctx) {
    const poison = await poisonOf(ctx);
    if (!poison) return null;
    return (await deadLettersOf(ctx, poison.actionId)).some((l) => l.state === 'discarded')
      ? `the poison action ${poison.actionId} was quarantined (dlq discard)`
      : null;
  },

  async verifyMitigated(ctx) {
    const poison = await poisonOf(ctx);
    if (!poison)
      return [{ name: 'poison injected', passed: false, detail: 'the timeline has no poison job' }];
    const letters = await deadLettersOf(ctx, poison.actionId);
    const quarantined =
      letters.some((l) => l.state === 'discarded') && !letters.some((l) => l.state === 'open');
    const results: CheckResult[] = [
      {
        name: 'poison quarantined',
        passed: quarantined,
        detail: quarantined
          ? `the poison action ${poison.actionId} is discarded`
          : letters.length === 0
            ? `the poison action ${poison.actionId} has not been dead-lettered yet`
            : `the poison action ${poison.actionId} is not discarded (dead letters: ${letters.map((l) => `${l.job_id} ${l.state}`).join(', ')})`,
      },
    ];
    const { rows } = await ctx.pool.query<{ n: number }>(
      `SELECT count(*)::int AS n FROM dead_letters WHERE tenant_id = $1 AND state = 'open' AND action_id <> $2`,
      [ctx.tenant.id, poison.actionId],
    );
    const open = rows[0]!.n;
    results.push({
      name: 'the rest replayed',
      passed: open === 0,
      detail:
        open === 0
          ? 'no other dead letter of the drill tenant is open'
          : `${open} other dead letter(s) are still open`,
    });
    return results;
  },

  async wrongActions(ctx) {
    const poison = await poisonOf(ctx);
    if (!poison) return [];
    const replays = (await deadLettersOf(ctx, poison.actionId)).filter((l) => l.state === 'replayed').length;
    return replays ? [`the poison job was replayed ${replays} time(s); it failed again each time`] : [];
  },

  async cleanup(ctx) {
    const poison = await poisonOf(ctx);
    if (!poison) return;
    // Never left to run, or to page, after the drill: a poison still in the queue is
    // failed here, and its open dead letters are quarantined.
    await withTransaction(ctx.pool, async (tx) => {
      await tx.query(
        `UPDATE dead_letters SET state = 'discarded', resolved_at = now(), resolved_by = 'drill'
          WHERE tenant_id = $1 AND action_id = $2 AND state = 'open'`,
        [ctx.tenant.id, poison.actionId],
      );
      await tx.query(
        `UPDATE actions SET status = 'failed', version = version + 1, updated_at = now(),
                error = '{"code": "discarded", "message": "Quarantined when the drill stopped."}'::jsonb
          WHERE tenant_id = $1 AND id = $2 AND status IN ('queued', 'running')`,
        [ctx.tenant.id, poison.actionId],
      );
    });
  },
};
