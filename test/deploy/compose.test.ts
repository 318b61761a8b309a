import { existsSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { configVariables, itWithTool, readYaml, repoPath, run, toolVersion } from './deploy-tools.ts';

interface Healthcheck {
  test?: string[];
  disable?: boolean;
}
interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  entrypoint?: string[];
  environment?: Record<string, string>;
  volumes?: string[];
  ports?: string[];
  profiles?: string[];
  healthcheck?: Healthcheck;
  depends_on?: Record<string, { condition: string }>;
  restart?: string;
  read_only?: boolean;
  cap_drop?: string[];
}
interface ComposeFile {
  services: Record<string, Service>;
  volumes: Record<string, unknown>;
}

const COMPOSE = 'docker-compose.yml';
const compose = readYaml<ComposeFile>(COMPOSE);
const services = compose.services;
const composeText = readFileSync(repoPath(COMPOSE), 'utf8');

// The full stack (docs/deploy.md, issue 12), by service name.
const REQUIRED_SERVICES = [
  'postgres',
  'redis',
  'migrate',
  'api',
  'worker',
  'moderation',
  'unleash',
  'seed',
  'otel-collector',
  'jaeger',
  'prometheus',
  'alertmanager',
  'grafana',
  'postgres-exporter',
  'redis-exporter',
  'k6',
];
const ONE_SHOT = new Set(['migrate', 'seed', 'cli', 'k6']);
const AIRLOCK_ROLES = ['api', 'worker', 'moderation'];
// Long-running services without a healthcheck, and why. Everything else must have one.
const NO_HEALTHCHECK: Record<string, string> = {
  'otel-collector': 'distroless image: no shell or HTTP client inside',
  jaeger: 'its image has no HTTP client to probe with',
  'redis-exporter': 'scratch image: nothing inside can run a check',
};
// Variables read by the seeding script rather than by src/platform/config.ts.
const SCRIPT_VARIABLES = new Set(['ALERT_TOKEN_FILE']);

const dockerCompose = toolVersion('docker-compose', ['version', '--short']);
const envExample = repoPath('.env.example');

describe('docker-compose.yml', () => {
  itWithTool(
    'docker-compose',
    Boolean(dockerCompose),
    `when docker-compose ${dockerCompose ?? ''} renders it with .env.example and every profile, then it is valid`,
    () => {
      const result = run('docker-compose', [
        '--env-file',
        envExample,
        '--profile',
        'load',
        '--profile',
        'tools',
        'config',
        '--quiet',
      ]);
      expect(result.status, result.output).toBe(0);
    },
  );

  itWithTool(
    'docker-compose',
    Boolean(dockerCompose),
    'when no .env is present, then config refuses to render and says to copy .env.example',
    () => {
      const empty = path.join(mkdtempSync(path.join(tmpdir(), 'airlock-env-')), '.env');
      writeFileSync(empty, '');
      const result = run('docker-compose', ['--env-file', empty, 'config', '--quiet'], {
        env: { PATH: process.env.PATH },
      });
      expect(result.status).not.toBe(0);
      expect(result.output).toContain('copy .env.example to .env');
    },
  );

  it('when listed, then every service of the full stack is there', () => {
    expect(Object.keys(services)).toEqual(expect.arrayContaining(REQUIRED_SERVICES));
  });

  it('when a service mounts a file or folder of the repo, then it exists', () => {
    const missing: string[] = [];
    let binds = 0;
    for (const [name, service] of Object.entries(services)) {
      for (const volume of service.volumes ?? []) {
        const source = volume.split(':')[0]!;
        if (!source.startsWith('.') && !source.startsWith('/')) continue;
        binds++;
        if (!existsSync(path.resolve(repoPath(), source))) missing.push(`${name}: ${source}`);
      }
    }
    expect(binds).toBeGreaterThanOrEqual(8);
    expect(missing).toEqual([]);
  });

  it('when an image is named, then it is pinned to a version (no latest, no bare major)', () => {
    for (const [name, service] of Object.entries(services)) {
      const image = service.image;
      expect(image, name).toBeTruthy();
      if (image === 'airlock:local') continue;
      const tag = image!.split('@')[0]!.split(':').pop()!;
      expect(tag, `${name}: ${image}`).toMatch(/^v?\d+\.\d+(\.\d+)?(-[a-z0-9.]+)?$/);
    }
  });

  it('when the Airlock image is used, then only migrate builds it and the roles reuse it', () => {
    const building = Object.entries(services).filter(([, s]) => s.build);
    expect(building.map(([name]) => name)).toEqual(['migrate']);
    for (const role of [...AIRLOCK_ROLES, 'seed', 'cli']) {
      expect(services[role]?.image, role).toBe('airlock:local');
      expect(services[role]?.build, role).toBeUndefined();
    }
  });

  it('when a role runs, then it is read-only, drops every capability and names its role for the healthcheck', () => {
    for (const role of AIRLOCK_ROLES) {
      const service = services[role]!;
      expect(service.read_only, role).toBe(true);
      expect(service.cap_drop, role).toEqual(['ALL']);
      expect(service.environment?.AIRLOCK_ROLE, role).toBe(role);
      expect(service.command, role).toBeUndefined();
    }
  });

  it('when the roles are configured, then every variable is one the config reads, with OTLP and Unleash set', () => {
    const known = configVariables();
    for (const name of [...AIRLOCK_ROLES, 'migrate', 'seed', 'cli']) {
      const env = services[name]!.environment ?? {};
      const unknown = Object.keys(env).filter((v) => !known.has(v) && !SCRIPT_VARIABLES.has(v));
      expect(unknown, name).toEqual([]);
    }
    for (const role of AIRLOCK_ROLES) {
      const env = services[role]!.environment!;
      expect(env.OTEL_EXPORTER_OTLP_ENDPOINT).toBe('http://otel-collector:4318');
      expect(env.UNLEASH_URL).toBe('http://unleash:4242/api');
      expect(env.UNLEASH_API_TOKEN).toMatch(/\$\{UNLEASH_API_TOKEN/);
      expect(env.MODERATION_URL).toBe('http://moderation:8081');
      expect(env.UNLEASH_ADMIN_TOKEN, `${role} must not hold the Unleash admin token`).toBeUndefined();
    }
  });

  it('when a variable is interpolated, then .env.example defines it or the file gives a default', () => {
    const defined = new Set(
      readFileSync(envExample, 'utf8')
        .split('\n')
        .map((line) => /^([A-Z][A-Z0-9_]*)=/.exec(line)?.[1])
        .filter(Boolean),
    );
    const required = [...composeText.matchAll(/\$\{([A-Z][A-Z0-9_]*)(:?[?-])?/g)]
      .filter((m) => m[2] !== ':-')
      .map((m) => m[1]!);
    expect(required.length).toBeGreaterThan(0);
    expect([...new Set(required)].filter((v) => !defined.has(v))).toEqual([]);
  });

  it('when a long-running service starts, then it has a healthcheck or a stated reason not to', () => {
    for (const [name, service] of Object.entries(services)) {
      if (ONE_SHOT.has(name)) continue;
      // Airlock's roles get the image's HEALTHCHECK (Dockerfile), and the API a stricter one.
      if (service.image === 'airlock:local') continue;
      if (NO_HEALTHCHECK[name]) {
        expect(service.healthcheck, name).toBeUndefined();
        continue;
      }
      expect(service.healthcheck?.test?.length, name).toBeGreaterThan(0);
    }
  });

  it('when a service depends on another, then it waits for health or completion, not mere start', () => {
    for (const [name, service] of Object.entries(services)) {
      for (const [dependency, { condition }] of Object.entries(service.depends_on ?? {})) {
        const target = services[dependency];
        expect(target, `${name} -> ${dependency}`).toBeDefined();
        const expected = ONE_SHOT.has(dependency)
          ? 'service_completed_successfully'
          : target?.healthcheck?.test || target?.image === 'airlock:local'
            ? 'service_healthy'
            : 'service_started';
        expect(condition, `${name} -> ${dependency}`).toBe(expected);
      }
    }
  });

  it('when Redis starts, then it keeps an append-only file and never evicts keys', () => {
    const command = services.redis!.command!.join(' ');
    expect(command).toMatch(/--appendonly yes/);
    expect(command).toMatch(/--maxmemory-policy noeviction/);
    expect(services.redis!.volumes).toContain('redisdata:/data');
  });

  it('when Unleash starts, then it has its own database, created by the Postgres init script', () => {
    expect(services.unleash!.environment!.DATABASE_URL).toMatch(/@postgres:5432\/unleash$/);
    expect(readFileSync(repoPath('deploy/compose/postgres-init.sql'), 'utf8')).toMatch(
      /CREATE DATABASE unleash;/,
    );
  });

  it('when ports are published, then only on 127.0.0.1', () => {
    const published = Object.values(services).flatMap((s) => s.ports ?? []);
    expect(published.length).toBeGreaterThanOrEqual(8);
    for (const port of published) expect(port).toMatch(/^127\.0\.0\.1:\d+:\d+$/);
  });

  it('when the load profile is used, then k6 runs the load-tests folder against the api', () => {
    const k6 = services.k6!;
    expect(k6.profiles).toEqual(['load']);
    expect(k6.volumes).toContain('./load-tests:/load-tests:ro');
    expect(k6.environment?.BASE_URL).toBe('http://api:8080');
    for (const [name, service] of Object.entries(services)) {
      if (name !== 'k6' && name !== 'cli') expect(service.profiles, name).toBeUndefined();
    }
  });

  it('when Alertmanager posts to the inbox, then it reads the key the seed step writes to their shared volume', () => {
    const am = readYaml<{
      receivers: {
        webhook_configs?: { url: string; http_config?: { authorization?: { credentials_file?: string } } }[];
      }[];
    }>('observability/alertmanager/alertmanager.yml');
    const hooks = am.receivers.flatMap((r) => r.webhook_configs ?? []);
    expect(hooks.length).toBeGreaterThan(0);
    const seedFile = services.seed!.environment!.ALERT_TOKEN_FILE!;
    const seedMount = services.seed!.volumes!.find((v) => seedFile.startsWith(`${v.split(':')[1]}/`))!;
    const volume = seedMount.split(':')[0]!;
    expect(compose.volumes).toHaveProperty(volume);
    const amMount = services.alertmanager!.volumes!.find((v) => v.startsWith(`${volume}:`))!;
    expect(amMount).toMatch(/:ro$/);
    for (const hook of hooks) {
      expect(hook.url).toBe('http://api:8080/v1/alerts/webhook');
      expect(hook.http_config?.authorization?.credentials_file).toBe(
        `${amMount.split(':')[1]}/${path.basename(seedFile)}`,
      );
    }
    expect(services.alertmanager!.depends_on?.seed?.condition).toBe('service_completed_successfully');
  });

  it('when Prometheus scrapes, then every target is a compose service on a port it serves', () => {
    const prom = readYaml<{
      scrape_configs: { job_name: string; static_configs: { targets: string[] }[] }[];
    }>('observability/prometheus/prometheus.yml');
    const ports: Record<string, string> = {
      api: '8080',
      worker: '8082',
      moderation: '8081',
      alertmanager: '9093',
      'postgres-exporter': '9187',
      'redis-exporter': '9121',
      'otel-collector': '8888',
    };
    const targets = prom.scrape_configs.flatMap((c) => c.static_configs.flatMap((s) => s.targets));
    for (const target of targets) {
      const [host, port] = target.split(':');
      if (host === 'localhost') continue;
      expect(services, target).toHaveProperty(host!);
      expect(port, target).toBe(ports[host!]);
    }
    expect(targets).toEqual(expect.arrayContaining(['postgres-exporter:9187', 'redis-exporter:9121']));
  });
});
