import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import { PolicyBody, PolicyView } from './policy.schemas.ts';
import type { PolicyService } from './policy.service.ts';

export const policyRoutes: FastifyPluginAsyncTypebox<{ policies: PolicyService; guard: RoleGuard }> = async (
  app,
  { policies, guard },
) => {
  app.get(
    '/v1/policy',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['policy'],
        summary: "The tenant's policy",
        response: { 200: PolicyView, ...errorResponses(401, 403) },
      },
    },
    async (request) => policies.get(principalOf(request).tenantId),
  );

  app.put(
    '/v1/policy',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['policy'],
        summary: "Replace the tenant's policy",
        body: PolicyBody,
        response: { 200: PolicyView, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return policies.put(principal.tenantId, request.body, `key:${principal.keyId}`);
    },
  );
};
