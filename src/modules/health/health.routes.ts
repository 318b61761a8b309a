import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';

export interface ReadinessCheck {
  name: string;
  check(): Promise<void>;
}

const CHECK_TIMEOUT_MS = 1_000;

// /livez touches nothing: a process that answers is alive, and restarting it because
// Postgres is down would only add a second outage. /readyz asks every dependency.
export const healthRoutes: FastifyPluginAsyncTypebox<{
  checks: readonly ReadinessCheck[];
  isDraining: () => boolean;
}> = async (app, { checks, isDraining }) => {
  const hide = { hide: true };
  app.get(
    '/livez',
    { schema: { ...hide, response: { 200: Type.Object({ status: Type.Literal('ok') }) } } },
    async () => ({
      status: 'ok' as const,
    }),
  );

  app.get('/readyz', { schema: hide }, async (_request, reply) => {
    if (isDraining()) {
      return reply.code(503).send({ status: 'draining', checks: { draining: 'failing' } });
    }
    const results = await Promise.all(
      checks.map(async ({ name, check }) => {
        try {
          await withTimeout(check(), CHECK_TIMEOUT_MS);
          return [name, 'ok'] as const;
        } catch {
          return [name, 'failing'] as const;
        }
      }),
    );
    const failing = results.filter(([, state]) => state === 'failing').map(([name]) => name);
    return reply
      .code(failing.length ? 503 : 200)
      .send({ status: failing.length ? 'unavailable' : 'ok', checks: Object.fromEntries(results), failing });
  });
};

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([
      work,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => reject(new Error('timeout')), ms);
      }),
    ]);
  } finally {
    clearTimeout(timer);
  }
}
