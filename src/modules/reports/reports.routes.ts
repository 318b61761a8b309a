import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import { ActionIdParams } from '../actions/actions.schemas.ts';
import type { ReportsService } from './reports.service.ts';

const ReportReason = Type.Union(
  (['harmful', 'incorrect', 'privacy', 'spam', 'other'] as const).map((r) => Type.Literal(r)),
);

const ReportBody = Type.Object(
  { reason: ReportReason, details: Type.Optional(Type.String({ maxLength: 2_000 })) },
  { additionalProperties: false },
);

const ReportView = Type.Object({
  id: Type.String(),
  action_id: Type.String(),
  reason: Type.String(),
  created_at: Type.String({ format: 'date-time' }),
});

const ResetBody = Type.Object(
  { tool: Type.String({ minLength: 1, maxLength: 64 }) },
  { additionalProperties: false },
);

export const reportsRoutes: FastifyPluginAsyncTypebox<{ reports: ReportsService; guard: RoleGuard }> = async (
  app,
  { reports, guard },
) => {
  app.post(
    '/v1/actions/:id/reports',
    {
      onRequest: guard(['agent', 'reviewer', 'admin']),
      schema: {
        tags: ['reports'],
        summary: 'Report a bad action',
        params: ActionIdParams,
        body: ReportBody,
        response: { 201: ReportView, ...errorResponses(400, 401, 404) },
      },
    },
    async (request, reply) =>
      reply.code(201).send(await reports.report(principalOf(request), request.params.id, request.body)),
  );

  app.post(
    '/v1/reports/reset',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['reports'],
        summary: 'Clear the user-report escalation of a tool (after it has been fixed)',
        body: ResetBody,
        response: {
          200: Type.Object({ tool: Type.String(), reset_at: Type.String() }),
          ...errorResponses(400, 401, 403, 422),
        },
      },
    },
    async (request) => reports.reset(principalOf(request), request.body.tool),
  );
};
