import { ConfigError, loadConfig, type Config } from '../platform/config.ts';

// The image's HEALTHCHECK: GET /livez on the port of the role this container runs, with a
// short timeout. Liveness only, as the contract defines it: a dependency outage must not
// make Docker mark (and an orchestrator restart) a process that is merely waiting for it.
// The role comes from AIRLOCK_ROLE, which is why compose sets it instead of an argument.
export function livezUrls(config: Config): string[] {
  const at = (port: number) => `http://127.0.0.1:${port}/livez`;
  switch (config.role) {
    case 'api':
      return [at(config.port)];
    case 'worker':
      return [at(config.workerPort)];
    case 'moderation':
      return [at(config.moderationPort)];
    case 'all':
      return [at(config.port), at(config.moderationPort)];
  }
}

export async function checkLive(urls: readonly string[], timeoutMs = 2_000): Promise<string | undefined> {
  for (const url of urls) {
    try {
      const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
      if (res.status !== 200) return `${url} answered ${res.status}`;
    } catch (err) {
      return `${url}: ${(err as Error).message}`;
    }
  }
  return undefined;
}

if (import.meta.main) {
  try {
    const problem = await checkLive(livezUrls(loadConfig()));
    if (problem) {
      process.stderr.write(`unhealthy: ${problem}\n`);
      process.exitCode = 1;
    }
  } catch (err) {
    process.stderr.write(`${err instanceof ConfigError ? err.message : (err as Error).message}\n`);
    process.exitCode = 1;
  }
}
