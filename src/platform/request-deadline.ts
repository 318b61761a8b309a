import { AsyncLocalStorage } from 'node:async_hooks';
import net from 'node:net';
import type pg from 'pg';
import { ServiceUnavailableError } from './errors.ts';

// One deadline per API request, honoured by everything the request waits on: the handler,
// the wait for a pool connection, and each query (cancelled on the server when the deadline
// passes, so a lock wait cannot outlive it). It sits below the socket timeout, so every
// request is answered (503 dependency_unavailable with Retry-After) before its socket
// closes, and nothing it started commits after that answer: a transaction whose COMMIT has
// not been sent by the deadline is rolled back.
//
// The deadline travels in AsyncLocalStorage rather than through every repository call: a
// query made for the request, however deep, sees it; background work (relay, worker,
// collectors) has none and is bounded by statement_timeout alone.

export class DeadlineExceededError extends ServiceUnavailableError {
  constructor(options: { cause?: unknown } = {}) {
    super('dependency_unavailable', 'The request did not finish within its deadline; retry shortly.', 1);
    if (options.cause) Object.defineProperty(this, 'cause', { value: options.cause });
  }
}

export interface Deadline {
  readonly signal: AbortSignal;
  expired(): boolean;
  remainingMs(): number;
  dispose(): void;
}

export function createDeadline(ms: number): Deadline {
  const at = performance.now() + ms;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), ms);
  timer.unref();
  return {
    signal: controller.signal,
    expired: () => controller.signal.aborted || performance.now() >= at,
    remainingMs: () => Math.max(0, at - performance.now()),
    dispose: () => clearTimeout(timer),
  };
}

export interface DeadlineScope {
  current(): Deadline | undefined;
  run<T>(deadline: Deadline, work: () => T): T;
  // Runs work with no deadline: clean-up that must happen even after it passed (releasing
  // an idempotency claim, a ROLLBACK).
  exempt<T>(work: () => T): T;
}

export function createDeadlineScope(): DeadlineScope {
  const storage = new AsyncLocalStorage<Deadline | undefined>();
  return {
    current: () => storage.getStore(),
    run: (deadline, work) => storage.run(deadline, work),
    exempt: (work) => storage.run(undefined, work),
  };
}

// Asks the server to cancel whatever the connection is running (the protocol's
// CancelRequest, on a connection of its own: no pool slot, no authentication). The
// statement ends with 57014 and its transaction is aborted.
export function cancelBackend(
  server: { host: string; port: number },
  processID: number,
  secretKey: number,
): void {
  const message = Buffer.alloc(16);
  message.writeInt32BE(16, 0);
  message.writeInt32BE(80877102, 4);
  message.writeInt32BE(processID, 8);
  message.writeInt32BE(secretKey, 12);
  const socket = server.host.startsWith('/')
    ? net.connect(`${server.host}/.s.PGSQL.${server.port}`)
    : net.connect(server.port, server.host);
  socket.setTimeout(2_000, () => socket.destroy());
  socket.on('error', () => undefined);
  socket.end(message);
}

type RawClient = pg.PoolClient & { processID: number | null; secretKey: number | null };

const isRollback = (config: unknown): boolean => typeof config === 'string' && /^\s*ROLLBACK\b/i.test(config);

// Wraps a pool so that, inside a deadline scope, the wait for a connection and every query
// end by the deadline. Outside a scope it is the pool as it was.
export function withDeadlines<T extends pg.Pool>(pool: T, scope: DeadlineScope, connectionString: string): T {
  const url = new URL(connectionString);
  const server = {
    host: decodeURIComponent(url.hostname || url.searchParams.get('host') || '127.0.0.1'),
    port: Number(url.port || 5432),
  };

  const connectWithin = async (deadline: Deadline): Promise<RawClient> => {
    if (deadline.expired()) throw new DeadlineExceededError();
    const pending = pool.connect() as Promise<RawClient>;
    let onAbort = (): void => undefined;
    const aborted = new Promise<never>((_, reject) => {
      onAbort = () => reject(new DeadlineExceededError());
      deadline.signal.addEventListener('abort', onAbort, { once: true });
    });
    try {
      return await Promise.race([pending, aborted]);
    } catch (err) {
      // The connection may still arrive; it goes straight back to the pool.
      pending.then(
        (client) => release(client),
        () => undefined,
      );
      throw err;
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
    }
  };

  // A cancel request travels on its own connection and may land after the statement it
  // was meant for; a connection we sent one for is closed on release, never reused, so the
  // late cancel cannot hit another request's statement.
  const cancelled = new WeakSet<RawClient>();
  const release = (client: RawClient, err?: unknown): void =>
    client.release(
      cancelled.has(client)
        ? new Error('statement cancelled at the request deadline')
        : (err as Error | undefined),
    );

  const queryWithin = async (client: RawClient, deadline: Deadline, args: unknown[]): Promise<unknown> => {
    const rollback = isRollback(args[0]);
    if (!rollback && deadline.expired()) throw new DeadlineExceededError();
    const onAbort = (): void => {
      if (client.processID !== null && client.secretKey !== null) {
        cancelled.add(client);
        cancelBackend(server, client.processID, client.secretKey);
      }
    };
    if (!rollback) deadline.signal.addEventListener('abort', onAbort, { once: true });
    try {
      return await (client.query as (...a: unknown[]) => Promise<unknown>).apply(client, args);
    } catch (err) {
      if (!rollback && deadline.expired()) throw new DeadlineExceededError({ cause: err });
      throw err;
    } finally {
      deadline.signal.removeEventListener('abort', onAbort);
    }
  };

  const wrapClient = (client: RawClient): RawClient =>
    new Proxy(client, {
      get(target, property) {
        if (property === 'release') return (err?: unknown) => release(target, err);
        if (property === 'query') {
          return (...args: unknown[]) => {
            const deadline = scope.current();
            return deadline
              ? queryWithin(target, deadline, args)
              : (target.query as (...a: unknown[]) => unknown).apply(target, args);
          };
        }
        const value = Reflect.get(target, property, target) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    });

  return new Proxy(pool, {
    get(target, property) {
      if (property === 'query') {
        return async (...args: unknown[]) => {
          const deadline = scope.current();
          // Callback-style calls (none of ours) keep the pool's own behaviour.
          if (!deadline || typeof args.at(-1) === 'function') {
            return (target.query as (...a: unknown[]) => unknown).apply(target, args);
          }
          const client = await connectWithin(deadline);
          try {
            const result = await queryWithin(client, deadline, args);
            release(client);
            return result;
          } catch (err) {
            // As pg's own pool.query does: a connection whose query failed is not reused.
            release(client, err);
            throw err;
          }
        };
      }
      if (property === 'connect') {
        return (...args: unknown[]) => {
          const deadline = scope.current();
          if (!deadline || args.length)
            return (target.connect as (...a: unknown[]) => unknown).apply(target, args);
          return connectWithin(deadline).then(wrapClient);
        };
      }
      const value = Reflect.get(target, property, target) as unknown;
      return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
    },
  });
}
