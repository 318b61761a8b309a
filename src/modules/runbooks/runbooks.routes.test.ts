import { readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createHttpServer } from '../../platform/http/http-server.ts';
import { createLogger } from '../../platform/logger.ts';
import { RUNBOOKS_DIR, runbooksRoutes } from './runbooks.routes.ts';

describe('runbooks served where runbook_url points', () => {
  const app = createHttpServer({
    logger: createLogger({ level: 'silent' }),
    bodyLimitBytes: 1024,
    requestTimeoutMs: 5_000,
  });
  beforeAll(async () => {
    await app.register(runbooksRoutes);
    await app.ready();
  });
  afterAll(() => app.close());

  it('when an alert runbook is requested, then its Markdown comes back as written', async () => {
    const response = await app.inject({ method: 'GET', url: '/runbooks/AirlockTargetDown.md' });
    expect(response.statusCode).toBe(200);
    expect(response.headers['content-type']).toBe('text/markdown; charset=utf-8');
    expect(response.body).toBe(readFileSync(path.join(RUNBOOKS_DIR, 'AirlockTargetDown.md'), 'utf8'));
  });

  it('when a name outside the runbooks is requested, then it is 404 problem+json', async () => {
    for (const url of ['/runbooks/Nope.md', '/runbooks/..%2Fpackage.json', '/runbooks/AirlockTargetDown']) {
      const response = await app.inject({ method: 'GET', url });
      expect(response.statusCode, url).toBe(404);
      expect(response.headers['content-type'], url).toContain('application/problem+json');
    }
  });
});
