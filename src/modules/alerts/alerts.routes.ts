import { createHash, timingSafeEqual } from 'node:crypto';
import type { FastifyPluginAsyncTypebox } from '@fastify/type-provider-typebox';
import { UnauthorizedError } from '../../platform/errors.ts';
import { errorResponses } from '../../platform/http/problem.ts';
import type { RoleGuard } from '../auth/auth.guard.ts';
import { AlertPage, AlertQuery, WebhookAccepted, WebhookBody } from './alerts.schemas.ts';
import type { AlertInboxService } from './alerts.service.ts';

// A delivery of 200 alerts with long annotations stays far below this.
const WEBHOOK_BODY_LIMIT_BYTES = 512 * 1024;

const digest = (value: string) => createHash('sha256').update(value, 'utf8').digest();

// The alert inbox. Alerts are about the shared service, not a tenant's data: an admin key of
// any tenant reads them (as the console does). Alertmanager delivers with its own bearer
// token (ALERT_WEBHOOK_TOKEN), never a tenant key; unset, the webhook does not exist.
export const alertsRoutes: FastifyPluginAsyncTypebox<{
  inbox: AlertInboxService;
  guard: RoleGuard;
  webhookToken: string | undefined;
}> = async (app, { inbox, guard, webhookToken }) => {
  app.get(
    '/v1/alerts',
    {
      onRequest: guard(['admin']),
      schema: {
        tags: ['alerts'],
        summary: 'What paged: alerts Alertmanager delivered (or the local evaluation fired), newest first',
        description:
          'Operator-wide: the alerts are about the shared service, so an admin key of any tenant reads the same list.',
        querystring: AlertQuery,
        response: { 200: AlertPage, ...errorResponses(400, 401, 403) },
      },
    },
    async (request) => inbox.list(request.query),
  );

  if (!webhookToken) return;
  const expected = digest(webhookToken);
  app.post(
    '/v1/alerts/webhook',
    {
      bodyLimit: WEBHOOK_BODY_LIMIT_BYTES,
      onRequest: async (request) => {
        const match = /^Bearer (.{1,512})$/.exec(request.headers.authorization ?? '');
        if (!match || !timingSafeEqual(digest(match[1]!), expected)) throw new UnauthorizedError();
      },
      schema: {
        tags: ['alerts'],
        summary: "Alertmanager's webhook receiver (payload version 4); ALERT_WEBHOOK_TOKEN only",
        body: WebhookBody,
        response: { 200: WebhookAccepted, ...errorResponses(400, 401, 413) },
      },
    },
    async (request) => inbox.receive(request.body),
  );
};
