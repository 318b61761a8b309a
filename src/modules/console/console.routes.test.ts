import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../platform/http/http-server.ts';
import { createLogger } from '../../platform/logger.ts';
import { CLIENT_DIR, CONSOLE_CSP, consoleRoutes } from './console.routes.ts';

describe('console static files', () => {
  const app = createHttpServer({
    logger: createLogger({ level: 'silent' }),
    bodyLimitBytes: 1024,
    requestTimeoutMs: 5_000,
  });
  beforeAll(async () => {
    await app.register(consoleRoutes);
    await app.ready();
  });
  afterAll(() => app.close());

  it('when /console is requested, then the shell comes with a strict CSP and no-referrer, and loads no inline script', async () => {
    const response = await app.inject({ method: 'GET', url: '/console' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/html; charset=utf-8');
    expect(response.headers['content-security-policy']).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).not.toContain('unsafe');
    expect(response.headers['referrer-policy']).toBe('no-referrer');
    expect(response.headers['x-frame-options']).toBe('DENY');
    expect(response.body).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(response.body).not.toMatch(/\son[a-z]+=/i);
  });

  it('when a module is requested with its current ETag, then 304; otherwise JavaScript with nosniff', async () => {
    const first = await app.inject({ method: 'GET', url: '/console/views/reviews.js' });
    expect(first.statusCode).toBe(200);
    expect(first.headers['content-type']).toBe('text/javascript; charset=utf-8');
    expect(first.headers['x-content-type-options']).toBe('nosniff');
    expect(first.body).toBe(readFileSync(path.join(CLIENT_DIR, 'views/reviews.js'), 'utf8'));
    const again = await app.inject({
      method: 'GET',
      url: '/console/views/reviews.js',
      headers: { 'if-none-match': String(first.headers.etag) },
    });
    expect(again.statusCode).toBe(304);
  });

  it('when a path is not one of the files read at start-up, then 404 problem+json, traversal included', async () => {
    for (const url of [
      '/console/nope.js',
      '/console/../app.ts',
      '/console/%2e%2e/console.routes.ts',
      '/console/tsconfig.json',
    ]) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type']).toContain('application/problem+json');
    }
  });
});
