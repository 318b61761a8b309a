import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type, type TSchema } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import { ActionIdParams, ProposalContext } from '../actions/actions.schemas.ts';
import type { ActionDetailsService } from './action-details.service.ts';

const Nullable = <T extends TSchema>(schema: T) => Type.Union([schema, Type.Null()]);

const ActionDetails = Type.Object({
  action_id: Type.String(),
  context: ProposalContext,
  timeline: Type.Array(
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      type: Type.String(),
      actor: Type.String(),
      status: Nullable(Type.String()),
      note: Nullable(Type.String()),
    }),
  ),
  reports: Type.Array(
    Type.Object({
      id: Type.String(),
      reason: Type.String(),
      details: Nullable(Type.String()),
      created_at: Type.String({ format: 'date-time' }),
    }),
  ),
  trace_id: Nullable(Type.String()),
  trace_url: Nullable(Type.String()),
});

export const actionDetailsRoutes: FastifyPluginAsyncTypebox<{
  details: ActionDetailsService;
  guard: RoleGuard;
}> = async (app, { details, guard }) => {
  app.get(
    '/v1/actions/:id/details',
    {
      onRequest: guard(['reviewer', 'admin']),
      schema: {
        tags: ['actions'],
        summary: "An action's proposal context, status timeline, reports and trace id (reviewers, admins)",
        params: ActionIdParams,
        response: { 200: ActionDetails, ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => details.get(principalOf(request), request.params.id),
  );
};
