import pg from 'pg';
import type { Logger } from './logger.ts';

// A dedicated connection for LISTEN. Notifications are a latency optimisation only: every
// consumer also polls, so a lost connection delays work by one poll interval, no more.
export interface PgListener {
  close(): Promise<void>;
}

export function createPgListener(options: {
  connectionString: string;
  channels: readonly string[];
  onNotify: (channel: string, payload: string | undefined) => void;
  logger: Logger;
}): PgListener {
  let client: pg.Client | null = null;
  let closed = false;
  let retryTimer: NodeJS.Timeout | undefined;
  let attempt = 0;

  const connect = async (): Promise<void> => {
    if (closed) return;
    const next = new pg.Client({
      connectionString: options.connectionString,
      application_name: 'airlock-listener',
    });
    next.on('notification', (msg) => options.onNotify(msg.channel, msg.payload));
    next.on('error', (err) => {
      options.logger.warn({ err: { message: err.message } }, 'postgres listener lost its connection');
      scheduleReconnect();
    });
    try {
      await next.connect();
      for (const channel of options.channels) await next.query(`LISTEN ${pg.escapeIdentifier(channel)}`);
      if (closed) {
        await next.end();
        return;
      }
      client = next;
      attempt = 0;
    } catch (err) {
      await next.end().catch(() => undefined);
      options.logger.warn(
        { err: { message: (err as Error).message } },
        'postgres listener could not connect',
      );
      scheduleReconnect();
    }
  };

  const scheduleReconnect = (): void => {
    if (closed || retryTimer) return;
    const old = client;
    client = null;
    void old?.end().catch(() => undefined);
    attempt += 1;
    const delay = Math.min(100 * 2 ** attempt, 5_000) * Math.random();
    retryTimer = setTimeout(() => {
      retryTimer = undefined;
      void connect();
    }, delay);
    retryTimer.unref();
  };

  void connect();

  return {
    async close() {
      closed = true;
      clearTimeout(retryTimer);
      await client?.end().catch(() => undefined);
      client = null;
    },
  };
}
