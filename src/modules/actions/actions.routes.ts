import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { ValidationError } from '../../platform/errors.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import type { ActionsService } from './actions.service.ts';
import {
  ActionIdParams,
  ActionList,
  ListActionsQuery,
  ProposeActionBody,
  ProposeActionHeaders,
} from './actions.schemas.ts';

export const actionsRoutes: FastifyPluginAsyncTypebox<{ actions: ActionsService; guard: RoleGuard }> = async (
  app,
  { actions, guard },
) => {
  app.post(
    '/v1/actions',
    {
      onRequest: guard(['agent']),
      // A missing or empty key has the contract's own code, not the generic invalid_request.
      schemaErrorFormatter: (errors, dataVar) =>
        dataVar === 'headers' && errors.some((e) => e.keyword === 'required' || e.keyword === 'minLength')
          ? new ValidationError('idempotency_key_required', 'The Idempotency-Key header is required.')
          : new Error(`${dataVar} is invalid`),
      schema: {
        tags: ['actions'],
        summary: 'Propose a tool action',
        headers: ProposeActionHeaders,
        body: ProposeActionBody,
        response: {
          200: Type.Ref('Action'),
          201: Type.Ref('Action'),
          ...errorResponses(400, 401, 403, 409, 413, 422, 429, 503),
        },
      },
    },
    async (request, reply) => {
      const { action, replayed } = await actions.propose(
        principalOf(request),
        request.body,
        request.headers['idempotency-key'],
      );
      if (replayed) reply.header('idempotent-replayed', 'true');
      return reply.code(replayed ? 200 : 201).send(action);
    },
  );

  app.get(
    '/v1/actions/:id',
    {
      onRequest: guard(['agent', 'reviewer', 'admin']),
      schema: {
        tags: ['actions'],
        summary: 'Read one action',
        params: ActionIdParams,
        response: { 200: Type.Ref('Action'), ...errorResponses(401, 403, 404) },
      },
    },
    async (request) => actions.get(principalOf(request), request.params.id),
  );

  app.get(
    '/v1/actions',
    {
      onRequest: guard(['agent', 'reviewer', 'admin']),
      schema: {
        tags: ['actions'],
        summary: 'List actions, newest first',
        querystring: ListActionsQuery,
        response: { 200: ActionList, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const { status, user_id: userId, tool, limit, cursor } = request.query;
      return actions.list(principalOf(request), { status, userId, tool, limit, cursor });
    },
  );
};
