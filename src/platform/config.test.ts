import { describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from './config.ts';

const PASSWORD = 'hunter2-s3cret';

function configErrorOf(env: Record<string, string>): ConfigError {
  try {
    loadConfig(env);
  } catch (err) {
    expect(err).toBeInstanceOf(ConfigError);
    return err as ConfigError;
  }
  throw new Error(`loadConfig accepted ${JSON.stringify(Object.keys(env))}`);
}

describe('loadConfig', () => {
  describe('defaults', () => {
    const config = loadConfig({});

    it('when nothing is set, then the connection defaults match the contract table', () => {
      expect(config.databaseUrl).toBe('postgres://postgres@127.0.0.1:5432/airlock');
      expect(config.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(config.moderationUrl).toBe('http://127.0.0.1:8081');
    });

    it('when nothing is set, then the ports are 8080 for the API and 8081 for moderation', () => {
      expect(config.port).toBe(8080);
      expect(config.moderationPort).toBe(8081);
    });

    it('when nothing is set, then the log level is info and the role is all', () => {
      expect(config.logLevel).toBe('info');
      expect(config.role).toBe('all');
    });

    it('when nothing is set, then Unleash is not configured and flags come from the local provider', () => {
      expect(config.unleashUrl).toBeUndefined();
      expect(config.unleashApiToken).toBeUndefined();
    });

    it('when a variable is set to the empty string, then its default applies', () => {
      const blank = loadConfig({ PORT: '', LOG_LEVEL: '', REDIS_URL: '', UNLEASH_URL: '' });
      expect(blank.port).toBe(8080);
      expect(blank.logLevel).toBe('info');
      expect(blank.redisUrl).toBe('redis://127.0.0.1:6379');
      expect(blank.unleashUrl).toBeUndefined();
    });
  });

  describe('valid values', () => {
    it('when every contract variable is set, then each is taken as given', () => {
      const config = loadConfig({
        DATABASE_URL: 'postgresql://app:pw@db.internal:6543/gateway',
        REDIS_URL: 'rediss://cache.internal:6380',
        PORT: '9000',
        MODERATION_PORT: '0',
        MODERATION_URL: 'https://moderation.internal',
        LOG_LEVEL: 'debug',
        UNLEASH_URL: 'http://unleash.internal/api',
        UNLEASH_API_TOKEN: 'token',
      });
      expect(config).toMatchObject({
        databaseUrl: 'postgresql://app:pw@db.internal:6543/gateway',
        redisUrl: 'rediss://cache.internal:6380',
        port: 9000,
        moderationPort: 0,
        moderationUrl: 'https://moderation.internal',
        logLevel: 'debug',
        unleashUrl: 'http://unleash.internal/api',
        unleashApiToken: 'token',
      });
    });

    it.each(['/0', '/3', '/15'])(
      'when REDIS_URL carries the db index %s, then it is accepted unchanged',
      (db) => {
        const url = `redis://127.0.0.1:6379${db}`;
        expect(loadConfig({ REDIS_URL: url }).redisUrl).toBe(url);
      },
    );

    it('when the role override is given, then it wins over AIRLOCK_ROLE', () => {
      expect(loadConfig({ AIRLOCK_ROLE: 'worker' }, { role: 'api' }).role).toBe('api');
      expect(loadConfig({ AIRLOCK_ROLE: 'worker' }).role).toBe('worker');
    });

    it('when WORKER_BACKOFF_MAX_MS equals the base, then it is accepted', () => {
      const config = loadConfig({ WORKER_BACKOFF_BASE_MS: '250', WORKER_BACKOFF_MAX_MS: '250' });
      expect(config.worker.backoffMaxMs).toBe(250);
    });
  });

  describe('standard OTEL_* variables', () => {
    it('when none is set, then the sampler keeps a tenth of new traces and both W3C propagators are used', () => {
      expect(loadConfig({}).telemetry).toMatchObject({
        sampler: 'parentbased_traceidratio',
        sampleRatio: 0.1,
        resourceAttributes: {},
        propagators: ['tracecontext', 'baggage'],
      });
    });

    it('when they are set, then the sampler, the decoded resource attributes and the propagators are taken', () => {
      const telemetry = loadConfig({
        OTEL_TRACES_SAMPLER: 'always_on',
        OTEL_RESOURCE_ATTRIBUTES: 'deployment.environment=staging, team=a%2Cb%3Dc',
        OTEL_PROPAGATORS: 'tracecontext',
      }).telemetry;
      expect(telemetry.sampler).toBe('always_on');
      expect(telemetry.resourceAttributes).toEqual({ 'deployment.environment': 'staging', team: 'a,b=c' });
      expect(telemetry.propagators).toEqual(['tracecontext']);
    });
  });

  describe('invalid values stop start-up with one line naming the variable', () => {
    const cases: Array<[string, Record<string, string>]> = [
      ['PORT', { PORT: 'abc' }],
      ['PORT', { PORT: '70000' }],
      ['PORT', { PORT: '-1' }],
      ['PORT', { PORT: '80.5' }],
      ['MODERATION_PORT', { MODERATION_PORT: '65536' }],
      ['LOG_LEVEL', { LOG_LEVEL: 'loud' }],
      ['DATABASE_URL', { DATABASE_URL: 'mysql://x' }],
      ['DATABASE_URL', { DATABASE_URL: `mysql://root:${PASSWORD}@db/app` }],
      ['DATABASE_URL', { DATABASE_URL: `postgres://root:${PASSWORD}@db:notaport/app` }],
      ['REDIS_URL', { REDIS_URL: 'notaurl' }],
      ['REDIS_URL', { REDIS_URL: `http://:${PASSWORD}@127.0.0.1:6379` }],
      ['REDIS_URL', { REDIS_URL: 'redis://127.0.0.1:6379/x' }],
      ['REDIS_URL', { REDIS_URL: `redis://default:${PASSWORD}@127.0.0.1:6379/x` }],
      ['MODERATION_URL', { MODERATION_URL: `ftp://u:${PASSWORD}@127.0.0.1` }],
      ['UNLEASH_URL', { UNLEASH_URL: 'not a url' }],
      ['WORKER_BACKOFF_MAX_MS', { WORKER_BACKOFF_BASE_MS: '1000', WORKER_BACKOFF_MAX_MS: '999' }],
      ['AIRLOCK_ROLE', { AIRLOCK_ROLE: 'bogus' }],
      ['REDIS_PREFIX', { REDIS_PREFIX: '{airlock}' }],
      ['REDIS_PREFIX', { REDIS_PREFIX: 'air lock*' }],
      ['OTEL_TRACES_SAMPLER', { OTEL_TRACES_SAMPLER: 'sometimes' }],
      ['OTEL_RESOURCE_ATTRIBUTES', { OTEL_RESOURCE_ATTRIBUTES: 'team=payments,broken' }],
      ['OTEL_PROPAGATORS', { OTEL_PROPAGATORS: 'tracecontext,xray' }],
    ];

    it.each(cases)('when %s is %j, then a ConfigError names it on one line', (variable, env) => {
      const error = configErrorOf(env);
      expect(error.variable).toBe(variable);
      expect(error.message).toContain(variable);
      expect(error.message).toMatch(/^invalid configuration: /);
      expect(error.message).not.toMatch(/[\r\n]/);
    });

    it.each(cases)('when %s is %j, then the message never echoes a URL password', (_variable, env) => {
      expect(configErrorOf(env).message).not.toContain(PASSWORD);
    });

    it('when the role override is bogus, then the ConfigError names AIRLOCK_ROLE', () => {
      let error: unknown;
      try {
        loadConfig({}, { role: 'bogus' });
      } catch (err) {
        error = err;
      }
      expect(error).toBeInstanceOf(ConfigError);
      expect((error as ConfigError).variable).toBe('AIRLOCK_ROLE');
    });
  });

  describe('immutability', () => {
    it('when the config is loaded, then it is frozen at every depth', () => {
      const config = loadConfig({ FETCH_ALLOW_PRIVATE_CIDRS: '10.0.0.0/8, 127.0.0.1/32' });
      const frozenEverywhere = (value: unknown, path: string): string[] => {
        if (!value || typeof value !== 'object') return [];
        const here = Object.isFrozen(value) ? [] : [path];
        return here.concat(...Object.entries(value).map(([k, v]) => frozenEverywhere(v, `${path}.${k}`)));
      };
      expect(frozenEverywhere(config, 'config')).toEqual([]);
      expect(config.fetch.allowPrivateCidrs).toEqual(['10.0.0.0/8', '127.0.0.1/32']);
    });

    it('when code tries to change the config, then the write throws', () => {
      const config = loadConfig({});
      expect(() => {
        (config as { port: number }).port = 1;
      }).toThrow(TypeError);
      expect(() => {
        (config.worker as { concurrency: number }).concurrency = 1;
      }).toThrow(TypeError);
      expect(() => {
        (config.fetch.allowPrivateCidrs as string[]).push('0.0.0.0/0');
      }).toThrow(TypeError);
      expect(config.port).toBe(8080);
    });
  });

  describe('drills', () => {
    it('when nothing is set, then a drill drives the API on this machine at its own port', () => {
      expect(loadConfig({ PORT: '9090' }).drill).toMatchObject({
        targetUrl: 'http://127.0.0.1:9090',
        trafficPerSecond: 5,
        maxDurationMs: 1_800_000,
      });
      expect(loadConfig({}).drill.postmortemDir).toMatch(/\/docs\/drills$/);
    });

    it.each(['http://10.0.0.5:8080', 'http://api.example.com', 'http://0.0.0.0:8080'])(
      'when DRILL_TARGET_URL is %s, then it is refused: a drill loads and breaks only this machine',
      (target) => {
        const error = configErrorOf({ DRILL_TARGET_URL: target });
        expect(error.variable).toBe('DRILL_TARGET_URL');
        expect(error.message).toContain('loopback');
      },
    );

    it.each(['http://127.0.0.1:8080/', 'http://localhost:3000', 'http://[::1]:8080'])(
      'when DRILL_TARGET_URL is %s, then it is accepted',
      (target) => {
        expect(loadConfig({ DRILL_TARGET_URL: target }).drill.targetUrl).toBe(target.replace(/\/$/, ''));
      },
    );
  });
});
