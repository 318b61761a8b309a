import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import {
  DeadLetterList,
  DeadLetterParams,
  DeadLetterQuery,
  DiscardBody,
  DiscardResult,
  FlagList,
  FlagParams,
  FlagView,
  OpsOverview,
  ReplayBody,
  ReplayResult,
  SetFlagBody,
} from './ops.schemas.ts';
import type { OpsService } from './ops.service.ts';

// The operations API behind the console's operations page: admin only, the caller's
// tenant only.
export const opsRoutes: FastifyPluginAsyncTypebox<{ ops: OpsService; guard: RoleGuard }> = async (
  app,
  { ops, guard },
) => {
  const admin = guard(['admin']);

  app.get(
    '/v1/ops/overview',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: 'Queue depth and age, outbox lag, breaker state, review backlog and dead letters',
        response: { 200: OpsOverview, ...errorResponses(401, 403) },
      },
    },
    async (request) => ops.overview(principalOf(request)),
  );

  app.get(
    '/v1/ops/flags',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: "The kill switches and rollout gate as they apply to the caller's tenant, with blast radius",
        response: { 200: FlagList, ...errorResponses(401, 403) },
      },
    },
    async (request) => ops.listFlags(principalOf(request)),
  );

  app.put(
    '/v1/ops/flags/:name',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: "Set a kill switch or the rollout gate for the caller's tenant only (global values: CLI)",
        params: FlagParams,
        body: SetFlagBody,
        response: { 200: FlagView, ...errorResponses(400, 401, 403, 404) },
      },
    },
    async (request) => ops.setFlag(principalOf(request), request.params.name, request.body.enabled),
  );

  app.get(
    '/v1/ops/dead-letters',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: "The tenant's dead-lettered executions, newest first",
        querystring: DeadLetterQuery,
        response: { 200: DeadLetterList, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => ops.listDeadLetters(principalOf(request), request.query.limit),
  );

  app.post(
    '/v1/ops/dead-letters/:job_id/replay',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: 'Replay one dead letter through the outbox',
        params: DeadLetterParams,
        body: ReplayBody,
        response: { 200: ReplayResult, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) => ops.replayDeadLetter(principalOf(request), request.params.job_id),
  );

  app.post(
    '/v1/ops/dead-letters/:job_id/discard',
    {
      onRequest: admin,
      schema: {
        tags: ['ops'],
        summary: 'Quarantine one dead letter: its action stays failed (code discarded) and is never replayed',
        params: DeadLetterParams,
        body: DiscardBody,
        response: { 200: DiscardResult, ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      ops.discardDeadLetter(principalOf(request), request.params.job_id, request.body.reason),
  );
};
