import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from './auth.guard.ts';

const Me = Type.Object({
  key_id: Type.String(),
  tenant: Type.String(),
  role: Type.String(),
  tools: Type.Union([Type.Array(Type.String()), Type.Null()]),
});

// Who the caller is, so a client (the console) can show the pages its role may use
// without probing endpoints. It reveals nothing the key's holder does not already have.
export const authRoutes: FastifyPluginAsyncTypebox<{ guard: RoleGuard }> = async (app, { guard }) => {
  app.get(
    '/v1/me',
    {
      onRequest: guard(['agent', 'reviewer', 'admin']),
      schema: {
        tags: ['auth'],
        summary: 'The calling key: its tenant, role and tools',
        response: { 200: Me, ...errorResponses(401) },
      },
    },
    async (request) => {
      const principal = principalOf(request);
      return {
        key_id: principal.keyId,
        tenant: principal.tenantSlug,
        role: principal.role,
        tools: principal.tools,
      };
    },
  );
};
