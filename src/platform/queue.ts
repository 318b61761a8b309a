import { Queue, Worker, type Job, type Processor, type WorkerOptions } from 'bullmq';
import type { Redis } from './redis.ts';

export interface RetryPolicy {
  maxAttempts: number;
  backoffBaseMs: number;
  backoffMaxMs: number;
}

export const JITTER_BACKOFF = 'capped-exponential-full-jitter';

// Capped exponential backoff with full jitter (AWS Architecture Blog): a random delay in
// [0, min(cap, base * 2^attempt)], which spreads retries of a shared failure apart.
export function fullJitterDelay(
  attemptsMade: number,
  policy: RetryPolicy,
  random: () => number = Math.random,
): number {
  const ceiling = Math.min(policy.backoffMaxMs, policy.backoffBaseMs * 2 ** Math.max(0, attemptsMade - 1));
  return Math.floor(random() * ceiling);
}

// Redis Cluster runs a Lua script only when every key it touches is in one hash slot, and
// BullMQ's scripts touch many keys of a queue at once. Only the part of a key inside the
// first {...} is hashed, so wrapping the prefix in braces puts all of a queue's keys in one
// slot: "{airlock:bull}:actions-execute:wait". See docs/adr for the cluster readiness ADR.
export function queuePrefix(namespace: string): string {
  if (/[{}]/.test(namespace)) throw new Error('a queue namespace must not contain braces');
  return `{${namespace}:bull}`;
}

export function createQueue(name: string, connection: Redis, prefix: string, retry: RetryPolicy): Queue {
  return new Queue(name, {
    connection,
    prefix,
    defaultJobOptions: {
      attempts: retry.maxAttempts,
      backoff: { type: JITTER_BACKOFF },
      // Completed jobs are kept briefly so a re-published outbox row with the same job id
      // is deduplicated; failed jobs are the dead-letter queue and are kept until replayed.
      removeOnComplete: { age: 24 * 3600, count: 100_000 },
      removeOnFail: false,
    },
  });
}

export function createWorker<T>(
  name: string,
  processor: Processor<T>,
  options: {
    connection: Redis;
    prefix: string;
    concurrency: number;
    retry: RetryPolicy;
    lockDurationMs: number;
    stalledIntervalMs: number;
    // Whether this job's retries wait (default yes); no means the next attempt starts at once.
    backoffEnabled?: (job: Job<T>) => boolean;
  },
): Worker<T> {
  const settings: WorkerOptions = {
    connection: options.connection,
    prefix: options.prefix,
    concurrency: options.concurrency,
    lockDuration: options.lockDurationMs,
    stalledInterval: options.stalledIntervalMs,
    maxStalledCount: 2,
    autorun: false,
    settings: {
      backoffStrategy: (attemptsMade: number, type?: string, _err?: Error, job?: unknown) =>
        type === JITTER_BACKOFF && (!job || options.backoffEnabled?.(job as Job<T>) !== false)
          ? fullJitterDelay(attemptsMade, options.retry)
          : 0,
    },
  };
  return new Worker<T>(name, processor, settings);
}

export type { Job, Queue, Worker };
