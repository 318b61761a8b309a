import { readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import type { FastifyPluginAsync } from 'fastify';
import { NotFoundError } from '../../platform/errors.ts';

export const RUNBOOKS_DIR = path.resolve(import.meta.dirname, '../../../runbooks');

// One runbook per alert, plus the index; anything else in the folder is not served.
const RUNBOOK_FILE = /^(?:Airlock[A-Za-z]+|README)\.md$/;

// The runbooks as the pager links them: every alert's runbook_url is
// <runbook_base>/runbooks/<Alert>.md (ADR 0023), and in the local stack the base is this
// service. Read once at start-up; they are the repository's own Markdown, public like it.
export const runbooksRoutes: FastifyPluginAsync<{ dir?: string }> = async (app, options) => {
  const dir = options.dir ?? RUNBOOKS_DIR;
  const files = new Map(
    readdirSync(dir)
      .filter((file) => RUNBOOK_FILE.test(file))
      .map((file) => [file, readFileSync(path.join(dir, file), 'utf8')] as const),
  );

  app.get<{ Params: { file: string } }>(
    '/runbooks/:file',
    { schema: { hide: true } },
    async (request, reply) => {
      const body = files.get(request.params.file);
      if (body === undefined) throw new NotFoundError('runbook');
      return reply.type('text/markdown; charset=utf-8').header('cache-control', 'no-cache').send(body);
    },
  );
};
