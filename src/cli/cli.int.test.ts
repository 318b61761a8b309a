import { createHash, randomUUID } from 'node:crypto';
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

interface CreatedKeyDocument {
  id: string;
  key: string;
  tenant: string;
  role: string;
  tools: string[] | null;
}
interface FlagsDocument {
  provider: string;
  flags: Array<{ name: string; enabled: boolean; scope: string; tenant?: string }>;
}
interface VerifyDocument {
  valid: boolean;
  checked: number;
  first_invalid_seq: number | null;
}
interface ErrorDocument {
  error: { code: string; message: string };
}

// The operator CLI as a real process against its own cloned database; this process keeps a
// container on the same database to check what the CLI wrote.
// Each CLI run is a fresh Node process that connects and checks migrations: seconds on a busy host.
describe('operator CLI', { timeout: 90_000 }, () => {
  let db: Awaited<ReturnType<typeof createTestDatabase>>;
  let env: Record<string, string>;
  let container: Container;

  beforeAll(async () => {
    db = await createTestDatabase();
    env = testEnv(db.url);
    container = buildContainer(testConfig(db.url), {
      logger: createLogger({ level: 'silent' }),
      background: false,
    });
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
  const tenantId = async (slug: string) =>
    (await container.pool.query<{ id: string }>('SELECT id FROM tenants WHERE slug = $1', [slug])).rows[0]!
      .id;
  const auditCount = async (slug: string) =>
    (
      await container.pool.query<{ n: number }>(
        'SELECT count(*)::int AS n FROM audit_events e JOIN tenants t ON t.id = e.tenant_id WHERE t.slug = $1',
        [slug],
      )
    ).rows[0]!.n;
  // A tenant with `events` audit events, written the way the service writes them.
  // The events are linked into the chain (verify links what is pending) before a test
  // tampers with them.
  const tenantWithEvents = async (slug: string, events: number) => {
    for (let i = 0; i < events; i++) await container.auth.createKey({ tenant: slug, role: 'reviewer' });
    const id = await tenantId(slug);
    expect(await container.audit.verify(id)).toMatchObject({ valid: true, checked: events });
    return id;
  };

  describe('keys create', () => {
    it('when an agent key is created with --json, then exactly one JSON document names id, key, tenant, role and tools', async () => {
      const { run, doc } = await json<CreatedKeyDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'agent',
        '--json',
      );
      expect(run.code).toBe(0);
      expect(Object.keys(doc).sort()).toEqual(['id', 'key', 'role', 'tenant', 'tools']);
      expect(doc).toMatchObject({ tenant: 't1', role: 'agent', tools: null });
      expect(doc.id).toMatch(/^[0-9a-f-]{36}$/);
      expect(doc.key).toMatch(/^alk_[A-Za-z0-9_-]{43}$/);
      expect(run.stderr).not.toContain(doc.key);
    });

    it('when keys are created without --json, then the sentence reads "an agent", "an admin", "a reviewer"', async () => {
      for (const [role, article] of [
        ['agent', 'an'],
        ['admin', 'an'],
        ['reviewer', 'a'],
      ] as const) {
        const run = await cli('keys', 'create', '--tenant', 'grammar', '--role', role);
        expect(run.stdout).toContain(`Created ${article} ${role} key for tenant grammar`);
      }
    });

    it('when the created key is presented, then it authenticates as an agent of the tenant with every tool', async () => {
      const { doc } = await json<CreatedKeyDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'agent',
        '--json',
      );
      const principal = await container.auth.authenticate(`Bearer ${doc.key}`);
      expect(principal).toMatchObject({ keyId: doc.id, tenantSlug: 't1', role: 'agent', tools: null });
    });

    it('when the created key is used on the HTTP API, then it is accepted', async () => {
      const { doc } = await json<CreatedKeyDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'admin',
        '--json',
      );
      const app = await container.createApi();
      try {
        const ok = await app.inject({
          method: 'GET',
          url: '/v1/audit',
          headers: { authorization: `Bearer ${doc.key}` },
        });
        expect(ok.statusCode).toBe(200);
        const wrong = await app.inject({
          method: 'GET',
          url: '/v1/audit',
          headers: { authorization: `Bearer ${doc.key.slice(0, -1)}${doc.key.endsWith('A') ? 'B' : 'A'}` },
        });
        expect(wrong.statusCode).toBe(401);
      } finally {
        await app.close();
      }
    });

    it('when a key is created, then the database holds only its SHA-256 hash, never the plaintext', async () => {
      const { doc } = await json<CreatedKeyDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'agent',
        '--json',
      );
      const { rows } = await container.pool.query<{ key_hash: Buffer }>(
        'SELECT key_hash FROM api_keys WHERE id = $1',
        [doc.id],
      );
      expect(rows[0]!.key_hash.equals(createHash('sha256').update(doc.key).digest())).toBe(true);

      const textColumns = await container.pool.query<{ column_name: string; data_type: string }>(
        `SELECT column_name, data_type FROM information_schema.columns
          WHERE table_name = 'api_keys' AND data_type IN ('text', 'character varying', 'character', 'json', 'jsonb')`,
      );
      for (const { column_name: column } of textColumns.rows) {
        const holding = await container.pool.query(
          `SELECT 1 FROM api_keys WHERE position($1 in ${column}::text) > 0`,
          [doc.key],
        );
        expect(holding.rowCount, `api_keys.${column}`).toBe(0);
      }
      // Nowhere else either: no row of any table renders to text containing the key.
      const tables = await container.pool.query<{ table_name: string }>(
        `SELECT table_name FROM information_schema.tables WHERE table_schema = 'public' AND table_type = 'BASE TABLE'`,
      );
      for (const { table_name: table } of tables.rows) {
        const holding = await container.pool.query(
          `SELECT 1 FROM "${table}" r WHERE position($1 in r::text) > 0`,
          [doc.key],
        );
        expect(holding.rowCount, table).toBe(0);
      }
    });

    it('when --tools is given, then the key is scoped to exactly those tools', async () => {
      const { run, doc } = await json<CreatedKeyDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'agent',
        '--tools',
        'notes.create,email.send',
        '--json',
      );
      expect(run.code).toBe(0);
      expect(doc.tools).toEqual(['notes.create', 'email.send']);
      const principal = await container.auth.authenticate(`Bearer ${doc.key}`);
      expect(principal.tools).toEqual(['notes.create', 'email.send']);
    });

    it('when --tools names an unknown tool, then it fails with unknown_tool and creates no key', async () => {
      const before = (await container.pool.query('SELECT id FROM api_keys')).rowCount;
      const { run, doc } = await json<ErrorDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'agent',
        '--tools',
        'rockets.launch',
        '--json',
      );
      expect(run.code).not.toBe(0);
      expect(doc.error.code).toBe('unknown_tool');
      expect((await container.pool.query('SELECT id FROM api_keys')).rowCount).toBe(before);
    });

    it('when the role is bad and --json is given, then it exits non-zero with one JSON error document', async () => {
      const before = (await container.pool.query('SELECT id FROM api_keys')).rowCount;
      const { run, doc } = await json<ErrorDocument>(
        'keys',
        'create',
        '--tenant',
        't1',
        '--role',
        'root',
        '--json',
      );
      expect(run.code).not.toBe(0);
      expect(doc.error.code).toBe('invalid_request');
      expect(doc.error.message).toContain('role');
      expect((await container.pool.query('SELECT id FROM api_keys')).rowCount).toBe(before);
    });

    it('when the role is bad without --json, then stdout is empty and stderr explains', async () => {
      const run = await cli('keys', 'create', '--tenant', 't1', '--role', 'root');
      expect(run.code).not.toBe(0);
      expect(run.stdout).toBe('');
      expect(run.stderr).toMatch(/^error: .*role/);
    });

    // Arguments cannot carry NUL (the OS ends them there); invalid UTF-8 arrives as U+FFFD and
    // a lone surrogate is sent as one. Each command's own pattern refuses them (ADR 0027).
    it('when arguments carry replacement characters, surrogates or combining marks, then each command refuses in one line and writes nothing', async () => {
      const before = (await container.pool.query('SELECT id FROM tenants')).rowCount;
      for (const args of [
        ['keys', 'create', '--tenant', 'a\ufffd', '--role', 'agent'],
        ['keys', 'create', '--tenant', 'acme', '--role', 'agent', '--tools', 'notes.create,\ud800'],
        ['flags', 'set', 'kill-switch.\ufffd', 'on'],
        ['audit', 'verify', '--tenant', 'x\u0301'],
        ['dlq', 'replay', '\ud800\ufffd'],
      ]) {
        const run = await cli(...args);
        expect(run.code, args.join(' ')).not.toBe(0);
        expect(run.stderr, args.join(' ')).toMatch(/^error: /);
        expect(run.stderr, args.join(' ')).not.toMatch(/\n\s+at /);
      }
      expect((await container.pool.query('SELECT id FROM tenants')).rowCount).toBe(before);
    });

    it('when --tenant is missing, then it is a usage error with exit code 2', async () => {
      const { run, doc } = await json<ErrorDocument>('keys', 'create', '--role', 'agent', '--json');
      expect(run.code).toBe(2);
      expect(doc.error).toMatchObject({ code: 'usage' });
      expect(doc.error.message).toContain('--tenant');
    });

    it('when the tenant slug is invalid, then it fails and creates no tenant', async () => {
      const { run, doc } = await json<ErrorDocument>(
        'keys',
        'create',
        '--tenant',
        'Bad Slug',
        '--role',
        'agent',
        '--json',
      );
      expect(run.code).not.toBe(0);
      expect(doc.error.code).toBe('invalid_request');
      expect((await container.pool.query(`SELECT 1 FROM tenants WHERE slug = 'Bad Slug'`)).rowCount).toBe(0);
    });
  });

  describe('flags', () => {
    it('when kill-switch.all is set on, then flags list shows it on globally', async () => {
      const set = await json<Record<string, unknown>>('flags', 'set', 'kill-switch.all', 'on', '--json');
      expect(set.run.code).toBe(0);
      expect(set.doc).toEqual({ name: 'kill-switch.all', enabled: true, tenant: null, provider: 'local' });

      const list = await json<FlagsDocument>('flags', 'list', '--json');
      expect(list.run.code).toBe(0);
      expect(list.doc.provider).toBe('local');
      expect(list.doc.flags).toContainEqual({ name: 'kill-switch.all', enabled: true, scope: '' });

      await container.flags.refresh();
      expect(container.flags.isEnabled('kill-switch.all')).toBe(true);

      await json('flags', 'set', 'kill-switch.all', 'off', '--json');
      const after = await json<FlagsDocument>('flags', 'list', '--json');
      expect(after.doc.flags).toContainEqual({ name: 'kill-switch.all', enabled: false, scope: '' });
    });

    it('when a flag is set with --tenant, then it is scoped to that tenant only', async () => {
      await container.auth.createKey({ tenant: 'flagged', role: 'admin' });
      await container.auth.createKey({ tenant: 'unflagged', role: 'admin' });
      const set = await json<Record<string, unknown>>(
        'flags',
        'set',
        'kill-switch.email.send',
        'on',
        '--tenant',
        'flagged',
        '--json',
      );
      expect(set.run.code).toBe(0);
      expect(set.doc).toMatchObject({ name: 'kill-switch.email.send', enabled: true, tenant: 'flagged' });

      const list = await json<FlagsDocument>('flags', 'list', '--json');
      const scoped = list.doc.flags.filter((f) => f.name === 'kill-switch.email.send');
      expect(scoped).toEqual([
        {
          name: 'kill-switch.email.send',
          enabled: true,
          scope: await tenantId('flagged'),
          tenant: 'flagged',
        },
      ]);

      await container.flags.refresh();
      expect(
        container.flags.isEnabled('kill-switch.email.send', { tenantId: await tenantId('flagged') }),
      ).toBe(true);
      expect(
        container.flags.isEnabled('kill-switch.email.send', { tenantId: await tenantId('unflagged') }),
      ).toBe(false);
      expect(container.flags.isEnabled('kill-switch.email.send')).toBe(false);
    });

    it('when the tenant of a flag does not exist, then it fails and sets nothing', async () => {
      const { run, doc } = await json<ErrorDocument>(
        'flags',
        'set',
        'auto-approve',
        'off',
        '--tenant',
        'nobody-here',
        '--json',
      );
      expect(run.code).not.toBe(0);
      expect(doc.error.message).toContain('nobody-here');
      expect((await container.pool.query(`SELECT 1 FROM flags WHERE name = 'auto-approve'`)).rowCount).toBe(
        0,
      );
    });

    it('when the flag name or state is unknown, then it is a usage error', async () => {
      const badName = await json<ErrorDocument>('flags', 'set', 'make-it-fast', 'on', '--json');
      expect(badName.run.code).toBe(2);
      expect(badName.doc.error.code).toBe('usage');
      const badState = await json<ErrorDocument>('flags', 'set', 'auto-approve', 'maybe', '--json');
      expect(badState.run.code).toBe(2);
      expect(badState.doc.error.code).toBe('usage');
    });
  });

  describe('audit verify', () => {
    it('when the chain is intact, then it prints valid true with every event checked and exits 0', async () => {
      await json('keys', 'create', '--tenant', 't1', '--role', 'reviewer', '--json');
      const { run, doc } = await json<VerifyDocument>('audit', 'verify', '--tenant', 't1', '--json');
      expect(run.code).toBe(0);
      expect(doc).toEqual({ valid: true, checked: await auditCount('t1'), first_invalid_seq: null });
      expect(doc.checked).toBeGreaterThan(0);
    });

    it('when one event data is changed in SQL, then it prints valid false at that seq and exits 1', async () => {
      const id = await tenantWithEvents('tampered', 4);
      await container.pool.query(
        `UPDATE audit_events SET data = data || '{"role":"admin"}'::jsonb WHERE tenant_id = $1 AND seq = 3`,
        [id],
      );
      const { run, doc } = await json<VerifyDocument>('audit', 'verify', '--tenant', 'tampered', '--json');
      expect(run.code).toBe(1);
      expect(doc).toEqual({ valid: false, checked: 3, first_invalid_seq: 3 });

      const human = await cli('audit', 'verify', '--tenant', 'tampered');
      expect(human.code).toBe(1);
      expect(human.stdout).toContain('INVALID at seq 3');
    });

    it('when the newest event is deleted, then it is detected at that seq and exits 1', async () => {
      const id = await tenantWithEvents('truncated', 3);
      await container.pool.query('DELETE FROM audit_events WHERE tenant_id = $1 AND seq = 3', [id]);
      const { run, doc } = await json<VerifyDocument>('audit', 'verify', '--tenant', 'truncated', '--json');
      expect(run.code).toBe(1);
      expect(doc).toEqual({ valid: false, checked: 2, first_invalid_seq: 3 });
    });

    it('when the tenant does not exist, then it exits non-zero with a JSON error', async () => {
      const { run, doc } = await json<ErrorDocument>('audit', 'verify', '--tenant', 'ghost', '--json');
      expect(run.code).not.toBe(0);
      expect(doc.error.message).toContain('ghost');
    });
  });

  it('when the command is unknown, then it is a usage error with exit code 2', async () => {
    const { run, doc } = await json<ErrorDocument>('keys', 'destroy', '--json');
    expect(run.code).toBe(2);
    expect(doc.error.code).toBe('usage');
  });

  // dlq list|replay|discard on dead letters inserted as the worker writes them (a failed
  // action and its parked job); the drills mitigate with these commands.
  describe('dlq', () => {
    let tenantId: string;
    beforeAll(async () => {
      await container.auth.createKey({ tenant: 'dlq-acme', role: 'admin' });
      tenantId = (
        await container.pool.query<{ id: string }>(`SELECT id FROM tenants WHERE slug = 'dlq-acme'`)
      ).rows[0]!.id;
    });

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

      const human = await cli('dlq', 'list', '--tenant', 'dlq-acme');
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

      const replayed = await json<BulkReplayResult>(
        'dlq',
        'replay',
        '--all',
        '--tenant',
        'dlq-acme',
        '--json',
      );
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
});
