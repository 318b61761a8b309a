import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import type { RoleGuard } from '../auth/auth.guard.ts';
import type { DrillViewService } from './drill-view.ts';
import { CurrentDrill } from './drills.schemas.ts';

// The running on-call drill, for the console's drills page. Drills are started and ended
// with the CLI (`cli drill`); the service only reads them. A drill is an operator-wide
// event, so any admin may read it.
export const drillsRoutes: FastifyPluginAsyncTypebox<{ drills: DrillViewService; guard: RoleGuard }> = async (
  app,
  { drills, guard },
) => {
  app.get(
    '/v1/drills/current',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['ops'],
        summary:
          'The running drill: scenario, timeline, alerts it fired, last check and score (null when none)',
        response: { 200: CurrentDrill, ...errorResponses(401, 403) },
      },
    },
    async () => drills.current(),
  );
};
