import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { ValidationError } from '../../platform/errors.ts';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import type { AuditService } from './audit.service.ts';

const AuditEvent = Type.Object({
  seq: Type.Integer(),
  action_id: Type.Union([Type.String(), Type.Null()]),
  type: Type.String(),
  actor: Type.String(),
  data: Type.Object({}, { additionalProperties: true }),
  created_at: Type.String({ format: 'date-time' }),
  prev_hash: Type.String(),
  hash: Type.String(),
});

export const AuditVerification = Type.Object({
  valid: Type.Boolean(),
  checked: Type.Integer(),
  first_invalid_seq: Type.Union([Type.Integer(), Type.Null()]),
});

const ListAuditQuery = Type.Object(
  {
    action_id: Type.Optional(Type.String({ format: 'uuid' })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }),
    cursor: Type.Optional(Type.String({ maxLength: 32 })),
  },
  { additionalProperties: false },
);

export const auditRoutes: FastifyPluginAsyncTypebox<{ audit: AuditService; guard: RoleGuard }> = async (
  app,
  { audit, guard },
) => {
  app.get(
    '/v1/audit',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['audit'],
        summary: "The tenant's hash-chained audit events, oldest first",
        querystring: ListAuditQuery,
        response: {
          200: Type.Object({
            items: Type.Array(AuditEvent),
            next_cursor: Type.Union([Type.String(), Type.Null()]),
          }),
          ...errorResponses(400, 401, 403),
        },
      },
    },
    async (request) => {
      const { action_id: actionId, limit, cursor } = request.query;
      if (cursor !== undefined && !/^\d{1,18}$/.test(cursor)) {
        throw new ValidationError('invalid_request', 'The cursor is not valid.');
      }
      return audit.list(principalOf(request).tenantId, {
        actionId,
        limit,
        cursor: cursor ? Number(cursor) : undefined,
      });
    },
  );

  app.get(
    '/v1/audit/verify',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['audit'],
        summary: "Verify the tenant's audit hash chain",
        response: { 200: AuditVerification, ...errorResponses(401, 403) },
      },
    },
    async (request) => audit.verify(principalOf(request).tenantId),
  );
};
