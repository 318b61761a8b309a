import { randomUUID } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitFor } from './helpers/test-env.ts';
import { useTestStack } from './helpers/use-test-stack.ts';

// SSRF through the public API: at decision time (POST /v1/actions) and again at execution
// time, per redirect hop, against the address the connection is pinned to.
//
// The local test server listens on 127.0.0.2 and only that address is exempted
// (FETCH_ALLOW_PRIVATE_CIDRS), so 127.0.0.1 in all its spellings stays blocked. No test
// connects anywhere but 127.0.0.2: blocked targets are refused before any connection.

const FETCH_BYTES_CAP = 256 * 1024;
const LOCAL = '127.0.0.2';

type Codes = string[];

describe('SSRF protection for http.fetch', () => {
  let server: http.Server | undefined;
  let port: number;
  // Names resolved at decision time and again at execution time, by call count.
  const resolutions = new Map<string, number>();
  // acme allowlists names only; ops also allowlists two addresses by literal, which must
  // not exempt them from the address check.
  const { stack, api, ids } = useTestStack(
    {
      worker: true,
      env: { FETCH_ALLOW_PRIVATE_CIDRS: `${LOCAL}/32`, WORKER_MAX_ATTEMPTS: '1' },
      resolveHost: async (host) => {
        const call = (resolutions.get(host) ?? 0) + 1;
        resolutions.set(host, call);
        switch (host) {
          case 'pages.test':
            return [{ address: LOCAL, family: 4 }];
          case 'internal.test':
            return [{ address: '10.0.0.5', family: 4 }];
          default:
            // Public when the decision is made, the metadata address when the worker connects.
            if (host.endsWith('.rebind.test'))
              return [{ address: call === 1 ? '93.184.216.34' : '169.254.169.254', family: 4 }];
            throw new Error(`no test address for ${host}`);
        }
      },
    },
    {
      acme: ['acme', 'agent'],
      ops: ['ops', 'agent'],
      acmeAdmin: ['acme', 'admin'],
      opsAdmin: ['ops', 'admin'],
    },
  );
  const { acme, ops } = ids;

  beforeAll(async () => {
    const pages = http.createServer((request, response) => {
      switch (request.url) {
        case '/page':
          return void response.writeHead(200, { 'content-type': 'text/plain' }).end('hello');
        case '/to-metadata':
          return void response.writeHead(302, { location: 'http://169.254.169.254/latest/meta-data' }).end();
        case '/to-internal':
          return void response.writeHead(302, { location: 'http://internal.test/admin' }).end();
        case '/to-unlisted':
          return void response.writeHead(302, { location: 'http://elsewhere.test/' }).end();
        case '/to-page':
          return void response.writeHead(302, { location: '/page' }).end();
        case '/huge':
          return void response
            .writeHead(200, { 'content-type': 'text/plain' })
            .end('a'.repeat(FETCH_BYTES_CAP + 64 * 1024));
        case '/binary':
          return void response
            .writeHead(200, { 'content-type': 'application/octet-stream' })
            .end(Buffer.alloc(32));
        default:
          return void response.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => pages.listen(0, LOCAL, resolve));
    port = (pages.address() as AddressInfo).port;
    server = pages;
    const names = ['pages.test', 'internal.test', '*.rebind.test'];
    const policy = { rate_limit_per_user_per_minute: 1000 };
    await api.setPolicy(ids.acmeAdmin.key, { ...policy, fetch_allowed_hosts: names });
    await api.setPolicy(ids.opsAdmin.key, {
      ...policy,
      fetch_allowed_hosts: [...names, '127.0.0.1', '169.254.169.254'],
    });
  });
  afterAll(async () => {
    await stack.close();
    await new Promise((resolve) => server?.close(resolve));
  });

  const fetchAction = (key: string, url: string) =>
    api.created(key, { tool: 'http.fetch', arguments: { url }, user_id: 'user-1' });
  const codesOf = (action: { decision: { reasons: Array<{ code: string }> } }): Codes =>
    action.decision.reasons.map((r) => r.code).sort();
  const settled = (key: string, id: string) =>
    waitFor(
      async () => {
        const current = await api.read(key, id);
        return ['succeeded', 'failed'].includes(current.status) ? current : undefined;
      },
      { what: `action ${id} to finish` },
    );
  // A fresh name per test, so resolution counts do not mix.
  const rebindingName = () => `${randomUUID().slice(0, 8)}.rebind.test`;
  const executed = async (key: string, url: string) => {
    const action = await fetchAction(key, url);
    expect(action.decision.outcome, JSON.stringify(action.decision.reasons)).toBe('allow');
    return settled(key, action.id);
  };

  describe('at decision time', () => {
    const loopbackSpellings = [
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://[::ffff:127.0.0.1]/',
    ];

    it.each([...loopbackSpellings, 'http://169.254.169.254/latest/meta-data'])(
      'when the target %s is an internal address outside the policy, then it is denied with host_not_allowlisted and ssrf_blocked',
      async (url) => {
        const action = await fetchAction(acme.key, url);
        expect(action.status).toBe('denied');
        expect(action.decision.outcome, JSON.stringify(action.decision.reasons)).toBe('deny');
        expect(codesOf(action)).toEqual(['host_not_allowlisted', 'ssrf_blocked']);
      },
    );

    it.each([
      'http://127.0.0.1/',
      'http://2130706433/',
      'http://0177.0.0.1/',
      'http://169.254.169.254/latest/meta-data',
    ])(
      'when the policy allowlists the address of %s by literal, then it is still denied, with ssrf_blocked alone',
      async (url) => {
        const action = await fetchAction(ops.key, url);
        expect(action.status).toBe('denied');
        expect(codesOf(action)).toEqual(['ssrf_blocked']);
      },
    );

    it('when an allowlisted name resolves to a private address, then it is denied with ssrf_blocked alone', async () => {
      const action = await fetchAction(acme.key, 'http://internal.test/admin');
      expect(action.status).toBe('denied');
      expect(codesOf(action)).toEqual(['ssrf_blocked']);
      expect(action.decision.reasons[0]!.message).toContain('private');
    });

    it('when a name is not in the policy, then it is denied with host_not_allowlisted and never resolved', async () => {
      const action = await fetchAction(acme.key, 'http://not-listed.test/');
      expect(codesOf(action)).toEqual(['host_not_allowlisted']);
      expect(resolutions.has('not-listed.test')).toBe(false);
    });

    // The worker must not connect to a public address from a test, so this name turns
    // private by the time it runs (see the rebinding test below).
    it('when an allowlisted name resolves to a public address, then it is allowed', async () => {
      const host = rebindingName();
      const action = await fetchAction(acme.key, `http://${host}/`);
      expect(action.decision).toMatchObject({ outcome: 'allow', reasons: [] });
      expect(action.status).toBe('queued');
      expect(resolutions.get(host)).toBe(1);
    });
  });

  describe('at execution time', () => {
    it('when the allowed local server answers, then the page is fetched (the exemption works)', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/page`);
      expect(done.status).toBe('succeeded');
      expect(done.result).toMatchObject({ status: 200, body: 'hello', truncated: false, redirects: 0 });
    });

    it('when a redirect stays on the allowed server, then it is followed', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/to-page`);
      expect(done.status).toBe('succeeded');
      expect(done.result).toMatchObject({ body: 'hello', redirects: 1 });
    });

    it('when the allowed server redirects to the metadata address, then the action fails with ssrf_blocked', async () => {
      const done = await executed(ops.key, `http://pages.test:${port}/to-metadata`);
      expect(done.status).toBe('failed');
      expect(done.error!.code).toBe('ssrf_blocked');
      expect(done.result).toBeNull();
    });

    it('when the allowed server redirects to an allowlisted name with a private address, then the action fails with ssrf_blocked', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/to-internal`);
      expect(done.status).toBe('failed');
      expect(done.error!.code).toBe('ssrf_blocked');
    });

    it('when the allowed server redirects to a host outside the policy, then the action fails with host_not_allowlisted', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/to-unlisted`);
      expect(done.status).toBe('failed');
      expect(done.error!.code).toBe('host_not_allowlisted');
    });

    it('when a name resolved to a public address at decision time resolves to the metadata address at execution, then the action fails with ssrf_blocked', async () => {
      const host = rebindingName();
      const done = await executed(acme.key, `http://${host}/`);
      expect(done.status).toBe('failed');
      expect(done.error!.code).toBe('ssrf_blocked');
      expect(resolutions.get(host)).toBe(2);
    });

    it('when the body is larger than the cap, then it is cut at the cap and marked truncated', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/huge`);
      expect(done.status).toBe('succeeded');
      expect(done.result!.truncated).toBe(true);
      expect(done.result!.body).toHaveLength(FETCH_BYTES_CAP);
    });

    it('when the content type is not allowed, then the action fails with content_type_not_allowed', async () => {
      const done = await executed(acme.key, `http://pages.test:${port}/binary`);
      expect(done.status).toBe('failed');
      expect(done.error!.code).toBe('content_type_not_allowed');
    });
  });
});
