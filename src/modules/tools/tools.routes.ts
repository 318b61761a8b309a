import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import type { RoleGuard } from '../auth/auth.guard.ts';
import type { ToolRegistry } from './tool-registry.ts';

const ToolView = Type.Object({
  name: Type.String(),
  description: Type.String(),
  risk_tier: Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high')]),
  side_effecting: Type.Boolean(),
  outbound: Type.Boolean(),
  arguments_schema: Type.Record(Type.String(), Type.Unknown()),
});

export const toolsRoutes: FastifyPluginAsyncTypebox<{ tools: ToolRegistry; guard: RoleGuard }> = async (
  app,
  { tools, guard },
) => {
  app.get(
    '/v1/tools',
    {
      onRequest: guard(['agent', 'reviewer', 'admin']),
      schema: {
        tags: ['tools'],
        summary: 'The tool catalogue, with each tool’s JSON Schema and risk tier',
        response: { 200: Type.Object({ items: Type.Array(ToolView) }), ...errorResponses(401) },
      },
    },
    async () => ({
      items: tools.all().map((tool) => ({
        name: tool.name,
        description: tool.description,
        risk_tier: tool.riskTier,
        side_effecting: tool.sideEffecting,
        outbound: tool.outbound,
        arguments_schema: tool.argumentsSchema as Record<string, unknown>,
      })),
    }),
  );
};
