import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Queue, Worker } from 'bullmq';
import { Cluster, Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test/helpers/free-port.ts';
import { uniqueSuffix, waitFor } from '../../test/helpers/test-env.ts';
import { EXECUTE_QUEUE } from '../modules/execution/execution.jobs.ts';
import { queuePrefix } from './queue.ts';

// A private one-node Redis Cluster owning all 16,384 slots. One node is enough: Redis
// refuses a script whose keys hash to different slots (CROSSSLOT) whatever node owns them,
// which is exactly the failure the hash-tagged prefix prevents.
let server: ChildProcess | undefined;
let dir: string;
let port: number;
let cluster: Cluster;

beforeAll(async () => {
  dir = mkdtempSync(path.join(tmpdir(), 'airlock-cluster-'));
  port = await freePort();
  server = spawn(
    'redis-server',
    [
      '--port',
      String(port),
      '--bind',
      '127.0.0.1',
      '--save',
      '',
      '--appendonly',
      'no',
      // Without an announced address the node reports an empty host in CLUSTER SLOTS.
      '--cluster-announce-ip',
      '127.0.0.1',
      '--cluster-enabled',
      'yes',
      '--cluster-config-file',
      path.join(dir, 'nodes.conf'),
      '--dir',
      dir,
    ],
    { stdio: 'ignore' },
  );
  const admin = new Redis({ port, host: '127.0.0.1', lazyConnect: true, retryStrategy: () => 100 });
  await waitFor(
    async () =>
      admin.connect().then(
        () => true,
        () => false,
      ),
    { what: 'private redis-server' },
  );
  await admin.call('CLUSTER', 'ADDSLOTSRANGE', '0', '16383');
  await waitFor(async () => String(await admin.call('CLUSTER', 'INFO')).includes('cluster_state:ok'), {
    what: 'cluster_state:ok',
  });
  admin.disconnect();
  cluster = new Cluster([{ host: '127.0.0.1', port }], { redisOptions: { maxRetriesPerRequest: null } });
}, 60_000);

afterAll(async () => {
  cluster?.disconnect();
  server?.kill('SIGKILL');
  rmSync(dir, { recursive: true, force: true });
});

describe('BullMQ on Redis Cluster', () => {
  it('when the queue uses the hash-tagged prefix, then a job is added, processed and completed', async () => {
    const prefix = queuePrefix(`cluster_${uniqueSuffix()}`);
    const queue = new Queue(EXECUTE_QUEUE, { connection: cluster, prefix });
    const worker = new Worker(EXECUTE_QUEUE, async (job) => ({ echoed: job.data.n }), {
      connection: cluster,
      prefix,
    });
    try {
      const job = await queue.add('execute', { n: 7 }, { jobId: 'outbox-1' });
      await waitFor(async () => (await queue.getJobState(job.id!)) === 'completed', {
        what: 'completed job',
      });
      expect((await queue.getJob(job.id!))?.returnvalue).toEqual({ echoed: 7 });
      const keys = await cluster.keys(`${prefix}:${EXECUTE_QUEUE}:*`);
      expect(keys.length).toBeGreaterThan(0);
      expect(keys.every((key) => key.startsWith(`${prefix}:`))).toBe(true);
    } finally {
      await worker.close();
      await queue.close();
    }
  });

  it('when a queue uses an untagged prefix, then Redis Cluster refuses its scripts with CROSSSLOT', async () => {
    const queue = new Queue(EXECUTE_QUEUE, { connection: cluster, prefix: `cluster_${uniqueSuffix()}:bull` });
    try {
      await expect(queue.add('execute', { n: 1 })).rejects.toThrow(/CROSSSLOT/);
    } finally {
      await queue.close();
    }
  });

  it('when the namespace contains a brace, then no prefix is made from it', () => {
    expect(() => queuePrefix('a}b')).toThrow(/braces/);
    expect(queuePrefix('airlock')).toBe('{airlock:bull}');
  });
});
