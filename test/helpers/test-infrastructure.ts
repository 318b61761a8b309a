import { execFile } from 'node:child_process';
import net from 'node:net';

// Where `npm test` gets Postgres and Redis from. Kept pure so the choice is unit-tested;
// the Docker path cannot run on machines without an engine.
export type InfrastructurePlan =
  { kind: 'use-configured' } | { kind: 'start-containers' } | { kind: 'fail'; message: string };

export function planInfrastructure(probe: {
  postgresUp: boolean;
  redisUp: boolean;
  dockerAvailable: boolean;
  databaseUrl: string;
  redisUrl: string;
  explicitlyConfigured: boolean;
}): InfrastructurePlan {
  if (probe.postgresUp && probe.redisUp) return { kind: 'use-configured' };
  // Only start containers when the user did not point us somewhere on purpose.
  if (probe.dockerAvailable && !probe.explicitlyConfigured) return { kind: 'start-containers' };
  const missing = [
    probe.postgresUp ? null : `Postgres at ${redact(probe.databaseUrl)}`,
    probe.redisUp ? null : `Redis at ${redact(probe.redisUrl)}`,
  ].filter(Boolean);
  return {
    kind: 'fail',
    message: `npm test needs ${missing.join(' and ')}: start ${missing.length > 1 ? 'them' : 'it'} (see README, "Running the tests"), set DATABASE_URL / REDIS_URL, or run a Docker engine so testcontainers can.`,
  };
}

function redact(url: string): string {
  try {
    const parsed = new URL(url);
    if (parsed.password) parsed.password = '***';
    return parsed.toString();
  } catch {
    return '(invalid URL)';
  }
}

export function tcpReachable(url: string, timeoutMs = 1_500): Promise<boolean> {
  const parsed = new URL(url);
  const port = Number(parsed.port || (parsed.protocol.startsWith('redis') ? 6379 : 5432));
  return new Promise((resolve) => {
    const socket = net.connect({ host: parsed.hostname, port, timeout: timeoutMs });
    const done = (up: boolean) => {
      socket.destroy();
      resolve(up);
    };
    socket.once('connect', () => done(true));
    socket.once('timeout', () => done(false));
    socket.once('error', () => done(false));
  });
}

export function dockerAvailable(): Promise<boolean> {
  return new Promise((resolve) => {
    execFile('docker', ['info', '--format', '{{.ServerVersion}}'], { timeout: 5_000 }, (err) =>
      resolve(!err),
    );
  });
}
