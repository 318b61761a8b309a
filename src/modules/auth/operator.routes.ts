import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { UnauthorizedError } from '../../platform/errors.ts';
import { errorResponses } from '../../platform/http/problem.ts';
import type { AuthService } from './auth.service.ts';

// The operator's `keys create` over HTTP, for what cannot run the CLI: the k6 suites'
// setup() creates a tenant and keys of its own through it (load-tests/lib.js). Registered
// only when AIRLOCK_OPERATOR_TOKEN is set, and then guarded by that token alone: it is an
// operator credential, not a tenant's key, so it lives in the environment like a database
// password and is compared in constant time.

const CreateKeyBody = Type.Object(
  {
    tenant: Type.String({ minLength: 1, maxLength: 63 }),
    role: Type.Union([Type.Literal('agent'), Type.Literal('reviewer'), Type.Literal('admin')]),
    tools: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { maxItems: 32 })),
  },
  { additionalProperties: false },
);

const CreatedKey = Type.Object({
  id: Type.String(),
  key: Type.String(),
  tenant: Type.String(),
  role: Type.String(),
  tools: Type.Union([Type.Array(Type.String()), Type.Null()]),
});

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

export const operatorRoutes: FastifyPluginAsyncTypebox<{
  auth: Pick<AuthService, 'createKey'>;
  token: string;
}> = async (app, { auth, token }) => {
  const expected = digest(token);
  app.post(
    '/v1/operator/keys',
    {
      onRequest: async (request) => {
        const match = /^Bearer (.{1,512})$/.exec(request.headers.authorization ?? '');
        if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw new UnauthorizedError();
      },
      schema: {
        tags: ['operator'],
        summary: 'Create a tenant (if missing) and an API key in it; operator token only',
        body: CreateKeyBody,
        response: { 201: CreatedKey, ...errorResponses(400, 401) },
      },
    },
    async (request, reply) => reply.code(201).send(await auth.createKey(request.body)),
  );
};
