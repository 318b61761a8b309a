import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildContainer, type Container } from '../container.ts';
import { createLogger } from '../platform/logger.ts';
import { createTestDatabase, testConfig, testEnv } from '../../test/helpers/test-env.ts';
import { runCli, singleJsonDocument } from '../../test/helpers/run-cli.ts';
import type {
  BulkReplayResult,
  DeadLetterPage,
  DiscardResult,
  ReplayResult,
} from '../modules/dlq/dlq.service.ts';

// `dlq list|replay|discard` as a real process, on dead letters inserted as the worker
// writes them (a failed action and its parked job); the drills mitigate with these commands.
describe('operator CLI: dlq', { timeout: 90_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let container: Container;
  let tenantId: string;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = testEnv(db.url);
    container = buildContainer(testConfig(db.url), {
      logger: createLogger({ level: 'silent' }),
      background: false,
    });
    await container.auth.createKey({ tenant: 'acme', role: 'admin' });
    tenantId = (await container.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE slug = 'acme'`))
      .rows[0]!.id;
  });
  afterAll(async () => {
    await container?.close();
    await db?.drop();
  });

  const cli = (...args: string[]) => runCli(args, env);
  const json = async <T>(...args: string[]) => {
    const run = await cli(...args);
    return { run, doc: singleJsonDocument(run) as T };
  };
  let next = 0;
  const deadLetter = async (code = 'kill_switch') => {
    next += 1;
    const actionId = randomUUID();
    const jobId = `outbox-${900_000 + next}`;
    const error = { code, message: 'A kill switch for notes.create is on.' };
    await container.pool.query(
      `INSERT INTO actions (id, tenant_id, tool, arguments, user_id, status, decision, error, attempts)
       VALUES ($1, $2, 'notes.create', '{"title":"t","body":"b"}', 'u', 'failed',
               '{"outcome":"allow","risk_score":0,"reasons":[]}', $3, 1)`,
      [actionId, tenantId, JSON.stringify(error)],
    );
    await container.pool.query(
      `INSERT INTO dead_letters (job_id, tenant_id, action_id, tool, attempts, error)
       VALUES ($1, $2, $3, 'notes.create', 1, $4)`,
      [jobId, tenantId, actionId, JSON.stringify(error)],
    );
    return { actionId, jobId };
  };

  it('when dead letters wait, then dlq list --json prints one page with the total and a cursor that continues it', async () => {
    const letters = [await deadLetter(), await deadLetter(), await deadLetter()];
    const first = await json<DeadLetterPage>('dlq', 'list', '--limit', '2', '--json');
    expect(first.run.code).toBe(0);
    expect(first.doc.total).toBe(3);
    expect(first.doc.items).toHaveLength(2);
    expect(first.doc.next_cursor).not.toBeNull();
    const second = await json<DeadLetterPage>(
      'dlq',
      'list',
      '--limit',
      '2',
      '--cursor',
      first.doc.next_cursor!,
      '--json',
    );
    expect([...first.doc.items, ...second.doc.items].map((d) => d.job_id).sort()).toEqual(
      letters.map((l) => l.jobId).sort(),
    );
    expect(second.doc.next_cursor).toBeNull();

    const human = await cli('dlq', 'list', '--tenant', 'acme');
    expect(human.code).toBe(0);
    expect(human.stdout).toContain('3 shown of 3');
  });

  it('when one letter is discarded and the rest are replayed with --all, then the discarded action stays failed and the others are queued through the outbox', async () => {
    const open = await json<DeadLetterPage>('dlq', 'list', '--json');
    const [quarantined, ...rest] = open.doc.items;
    const discarded = await json<DiscardResult>(
      'dlq',
      'discard',
      quarantined!.job_id,
      '--reason',
      'not wanted',
      '--json',
    );
    expect(discarded.doc).toMatchObject({ job_id: quarantined!.job_id, discarded: true });

    const replayed = await json<BulkReplayResult>('dlq', 'replay', '--all', '--tenant', 'acme', '--json');
    expect(replayed.run.code).toBe(0);
    expect(replayed.doc).toEqual({ matched: rest.length, replayed: rest.length, skipped: 0 });
    const { rows } = await container.pool.query<{
      id: string;
      status: string;
      code: string | null;
      outbox: number;
    }>(
      `SELECT a.id, a.status, a.error->>'code' AS code,
              (SELECT count(*)::int FROM outbox o WHERE o.action_id = a.id) AS outbox
         FROM actions a WHERE a.id = ANY($1::uuid[])`,
      [open.doc.items.map((d) => d.action_id)],
    );
    for (const row of rows) {
      if (row.id === quarantined!.action_id)
        expect(row).toMatchObject({ status: 'failed', code: 'discarded', outbox: 0 });
      else expect(row).toMatchObject({ status: 'queued', code: null, outbox: 1 });
    }
    expect((await json<DeadLetterPage>('dlq', 'list', '--json')).doc.total).toBe(0);
  });

  it('when a single letter is replayed by id, then it is requeued, and replaying it again says so without queueing twice', async () => {
    const { jobId, actionId } = await deadLetter('tool_timeout');
    const once = await json<ReplayResult>('dlq', 'replay', jobId, '--json');
    expect(once.doc).toMatchObject({ job_id: jobId, action_id: actionId, replayed: true });
    const twice = await json<ReplayResult>('dlq', 'replay', jobId, '--json');
    expect(twice.doc).toMatchObject({ replayed: false, detail: 'already replayed' });
    expect(
      (await container.pool.query('SELECT id FROM outbox WHERE action_id = $1', [actionId])).rows,
    ).toHaveLength(1);
  });

  it('when a job id is missing or both an id and --all are given, then it is a usage error; an unknown id is not_found', async () => {
    expect((await cli('dlq', 'replay')).code).toBe(2);
    expect((await cli('dlq', 'replay', 'outbox-1', '--all')).code).toBe(2);
    expect((await cli('dlq', 'discard')).code).toBe(2);
    expect((await cli('dlq', 'list', '--state', 'gone')).code).toBe(2);
    const unknown = await json<{ error: { code: string } }>('dlq', 'discard', 'outbox-424242', '--json');
    expect(unknown.run.code).toBe(1);
    expect(unknown.doc.error.code).toBe('not_found');
  });
});
