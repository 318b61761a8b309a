import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../platform/config.ts';
import { checkLive, livezUrls } from './healthcheck.ts';

let server: Server;
let base: string;

beforeAll(async () => {
  server = createServer((req, res) => {
    res.statusCode = req.url === '/livez' ? 200 : 503;
    res.end();
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

describe('container healthcheck', () => {
  it('when each role is configured, then it probes /livez on that role port only', () => {
    const env = { PORT: '9001', WORKER_PORT: '9002', MODERATION_PORT: '9003' };
    const urls = (role: string) => livezUrls(loadConfig({ ...env, AIRLOCK_ROLE: role }));
    expect(urls('api')).toEqual(['http://127.0.0.1:9001/livez']);
    expect(urls('worker')).toEqual(['http://127.0.0.1:9002/livez']);
    expect(urls('moderation')).toEqual(['http://127.0.0.1:9003/livez']);
    expect(urls('all')).toEqual(['http://127.0.0.1:9001/livez', 'http://127.0.0.1:9003/livez']);
  });

  it('when /livez answers 200, then the check passes; otherwise it names the failing URL', async () => {
    expect(await checkLive([`${base}/livez`])).toBeUndefined();
    expect(await checkLive([`${base}/livez`, `${base}/readyz`])).toMatch(/readyz answered 503/);
  });

  it('when nothing listens, then the check fails instead of hanging', async () => {
    const closed = 'http://127.0.0.1:1/livez';
    expect(await checkLive([closed], 500)).toMatch(/^http:\/\/127\.0\.0\.1:1\/livez: /);
  });
});
