import { inject, describe, expect, it } from 'vitest';
import { withDatabase } from './db.ts';
import { checkDependencies, DependencyUnreachableError, withoutPassword } from './dependencies.ts';
import { freePort } from '../../test/helpers/free-port.ts';

describe('checkDependencies', () => {
  const live = () => ({
    databaseUrl: withDatabase(inject('databaseUrl'), 'postgres'),
    redisUrl: inject('redisUrl'),
    unleashUrl: undefined,
  });

  it('when Postgres and Redis answer, then it resolves', async () => {
    await expect(checkDependencies(live(), ['postgres', 'redis', 'unleash'], 3_000)).resolves.toBeUndefined();
  });

  it('when the database does not exist, then the server still counts as reachable', async () => {
    const config = {
      ...live(),
      databaseUrl: withDatabase(inject('databaseUrl'), 'airlock_no_such_database'),
    };
    await expect(checkDependencies(config, ['postgres'], 3_000)).resolves.toBeUndefined();
  });

  it('when two are down, then the first in the order given is named', async () => {
    const port = await freePort();
    const config = {
      ...live(),
      redisUrl: `redis://127.0.0.1:${port}`,
      unleashUrl: `http://127.0.0.1:${port}/api`,
    };
    const error = await checkDependencies(config, ['unleash', 'redis'], 3_000).catch((err: unknown) => err);
    expect(error).toBeInstanceOf(DependencyUnreachableError);
    expect((error as DependencyUnreachableError).dependency).toBe('unleash');
    expect((error as Error).message).toMatch(
      /^Unleash at .* \(UNLEASH_URL\) is unreachable \(.*ECONNREFUSED/,
    );
  });

  it('when Unleash is not configured, then it is not checked', async () => {
    await expect(checkDependencies(live(), ['unleash'], 3_000)).resolves.toBeUndefined();
  });
});

describe('withoutPassword', () => {
  it('when a URL carries a password, then it is masked and the rest is kept', () => {
    expect(withoutPassword('postgres://app:s3cret@db:5432/airlock')).toBe(
      'postgres://app:***@db:5432/airlock',
    );
    expect(withoutPassword('redis://127.0.0.1:6390')).toBe('redis://127.0.0.1:6390');
    expect(withoutPassword('not a url')).toBe('(an unparseable URL)');
  });
});
