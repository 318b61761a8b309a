import { Redis } from 'ioredis';
import type { CheckResult, DrillScenario } from '../drill-types.ts';

// Redis stops. Nothing in Redis is the system of record (ADR 0001): proposals still commit
// with their outbox rows and reads fall back to Postgres, but nothing is published, so
// nothing runs; a Redis without persistence also comes back empty, losing the jobs it held.
// The mitigation is to bring Redis back; the outbox relay then publishes what piled up and
// the reconciler re-publishes the jobs Redis lost (ADR 0019). The drill really stops the
// server, so it runs only against a Redis of its own (DRILL_REDIS_CONTROL=shutdown).

const DRAINED_WITHIN_SECONDS = 10;
// Longer than the reconciler's default stranded-after (30 s) plus its interval (10 s).
const STUCK_AFTER_SECONDS = 60;
const PING_TIMEOUT_MS = 1_000;

async function redisAnswers(url: string): Promise<boolean> {
  const probe = new Redis(url, {
    lazyConnect: true,
    connectTimeout: PING_TIMEOUT_MS,
    commandTimeout: PING_TIMEOUT_MS,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  probe.on('error', () => undefined);
  try {
    await probe.connect();
    return (await probe.ping()) === 'PONG';
  } catch {
    return false;
  } finally {
    probe.disconnect();
  }
}

export const redisOutage: DrillScenario = {
  name: 'redis-outage',
  symptom:
    'Proposals still answer 201 and reads 200, but nothing runs: actions stay queued, and /readyz reports redis failing.',
  alert: 'AirlockOutboxLagHigh',
  // The oldest unpublished row passes 30 s, then the rule's 2 minutes, then a scrape and an
  // evaluation (measured with Prometheus at the shipped intervals: 186 s).
  fireWithinSeconds: 210,
  runbook: 'runbooks/AirlockOutboxLagHigh.md',
  mitigation:
    "Bring Redis back (systemctl start redis-server, docker compose start redis, or the drill's own redis-server command from the timeline), then watch the outbox drain and the reconciler re-publish what Redis lost.",

  async inject(ctx) {
    if (!ctx.config.drill.redisControl) {
      throw new Error(
        "redis-outage stops the Redis at REDIS_URL: run it against a Redis of the drill's own and set DRILL_REDIS_CONTROL=shutdown",
      );
    }
    const control = new Redis(ctx.redisUrl, {
      lazyConnect: true,
      maxRetriesPerRequest: 0,
      retryStrategy: () => null,
    });
    control.on('error', () => undefined);
    try {
      await control.connect();
      const info = await control.info('server');
      const field = (name: string) => new RegExp(`^${name}:(.*)$`, 'm').exec(info)?.[1]?.trim() ?? '';
      const configFile = field('config_file');
      const restart = `${field('executable') || 'redis-server'} ${configFile || `--port ${field('tcp_port')}`}`;
      await ctx.record(
        'fault.detail',
        'Redis is shut down without saving; it comes back empty when restarted.',
        {
          redis_port: Number(field('tcp_port')),
          restart_with: restart,
        },
      );
      // The server closes the connection instead of answering.
      await control.call('SHUTDOWN', 'NOSAVE').catch(() => undefined);
    } finally {
      control.disconnect();
    }
  },

  async mitigationObserved(ctx) {
    return (await redisAnswers(ctx.redisUrl)) ? 'Redis answers PING again' : null;
  },

  async verifyMitigated(ctx) {
    const up = await redisAnswers(ctx.redisUrl);
    const results: CheckResult[] = [
      {
        name: 'redis back',
        passed: up,
        detail: up ? 'Redis answers PING' : 'Redis does not answer: start it again',
      },
    ];
    const { rows } = await ctx.pool.query<{ unpublished: number; stuck: number }>(
      `SELECT (SELECT count(*)::int FROM outbox
                WHERE published_at IS NULL AND created_at < now() - make_interval(secs => $3)) AS unpublished,
              (SELECT count(*)::int FROM actions
                WHERE tenant_id = $1 AND created_at >= $2 AND status IN ('queued', 'running')
                  AND updated_at < now() - make_interval(secs => $4)) AS stuck`,
      [ctx.tenant.id, ctx.startedAt, DRAINED_WITHIN_SECONDS, STUCK_AFTER_SECONDS],
    );
    const { unpublished, stuck } = rows[0]!;
    results.push(
      {
        name: 'outbox drained',
        passed: unpublished === 0,
        detail:
          unpublished === 0
            ? `every outbox row older than ${DRAINED_WITHIN_SECONDS} s is published`
            : `${unpublished} outbox row(s) are still unpublished`,
      },
      {
        name: 'nothing lost',
        passed: stuck === 0,
        detail:
          stuck === 0
            ? 'every action of the drill has run or is running'
            : `${stuck} action(s) of the drill have been queued or running for over ${STUCK_AFTER_SECONDS} s: their jobs were lost and not re-published yet`,
      },
    );
    return results;
  },

  async cleanup(ctx) {
    // The drill cannot start a server it does not manage; it says so instead.
    if (!(await redisAnswers(ctx.redisUrl))) {
      ctx.log.warn('Redis is still down after the drill: start it again (see the drill timeline)');
    }
  },
};
