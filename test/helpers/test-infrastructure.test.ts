import { describe, expect, it } from 'vitest';
import { planInfrastructure } from './test-infrastructure.ts';

const base = {
  databaseUrl: 'postgres://postgres:secret@127.0.0.1:5432/airlock',
  redisUrl: 'redis://127.0.0.1:6379',
  explicitlyConfigured: false,
};

describe('planInfrastructure', () => {
  it('when both services answer, then it uses them', () => {
    expect(planInfrastructure({ ...base, postgresUp: true, redisUp: true, dockerAvailable: true })).toEqual({
      kind: 'use-configured',
    });
  });

  it('when a service is down and Docker runs, then it starts containers', () => {
    expect(planInfrastructure({ ...base, postgresUp: false, redisUp: true, dockerAvailable: true })).toEqual({
      kind: 'start-containers',
    });
  });

  it('when a service is down and the URLs were set on purpose, then it fails instead of starting containers', () => {
    const plan = planInfrastructure({
      ...base,
      explicitlyConfigured: true,
      postgresUp: false,
      redisUp: true,
      dockerAvailable: true,
    });
    expect(plan.kind).toBe('fail');
  });

  it('when Redis is down and there is no Docker, then the one-line message names Redis and not Postgres', () => {
    const plan = planInfrastructure({ ...base, postgresUp: true, redisUp: false, dockerAvailable: false });
    expect(plan.kind).toBe('fail');
    const message = (plan as { message: string }).message;
    expect(message).toContain('Redis at redis://127.0.0.1:6379');
    expect(message).not.toContain('Postgres at');
    expect(message).not.toContain('\n');
  });

  it('when the message names a URL with a password, then the password is masked', () => {
    const plan = planInfrastructure({ ...base, postgresUp: false, redisUp: false, dockerAvailable: false });
    expect((plan as { message: string }).message).not.toContain('secret');
  });
});
