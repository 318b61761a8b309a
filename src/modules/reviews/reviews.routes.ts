import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { Type } from 'typebox';
import { errorResponses } from '../../platform/http/problem.ts';
import { principalOf, type RoleGuard } from '../auth/auth.guard.ts';
import { ActionList } from '../actions/actions.schemas.ts';
import type { ReviewsService } from './reviews.service.ts';

const ListReviewsQuery = Type.Object(
  {
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);

const ReviewBody = Type.Object(
  {
    decision: Type.Union([Type.Literal('approve'), Type.Literal('reject')]),
    note: Type.Optional(Type.String({ maxLength: 2_000 })),
  },
  { additionalProperties: false },
);

const ReviewParams = Type.Object(
  { action_id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const reviewsRoutes: FastifyPluginAsyncTypebox<{ reviews: ReviewsService; guard: RoleGuard }> = async (
  app,
  { reviews, guard },
) => {
  app.get(
    '/v1/reviews',
    {
      onRequest: guard(['reviewer', 'admin']),
      schema: {
        tags: ['reviews'],
        summary: 'Actions awaiting review, oldest first',
        querystring: ListReviewsQuery,
        response: { 200: ActionList, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => reviews.listPending(principalOf(request), request.query),
  );

  app.post(
    '/v1/reviews/:action_id',
    {
      onRequest: guard(['reviewer', 'admin']),
      schema: {
        tags: ['reviews'],
        summary: 'Approve or reject a pending action',
        params: ReviewParams,
        body: ReviewBody,
        response: { 200: Type.Ref('Action'), ...errorResponses(400, 401, 403, 404, 409) },
      },
    },
    async (request) =>
      reviews.decide(
        principalOf(request),
        request.params.action_id,
        request.body.decision,
        request.body.note,
      ),
  );
};
