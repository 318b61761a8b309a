import type { FastifyReply, FastifyRequest } from 'fastify';
import type { Tracer } from '@opentelemetry/api';
import { traceRequests } from './platform/traced.ts';
import { createDeadline, type Deadline, type DeadlineScope } from './platform/request-deadline.ts';
import swagger from '@fastify/swagger';
import swaggerUi from '@fastify/swagger-ui';
import underPressure from '@fastify/under-pressure';
import { AppError } from './platform/errors.ts';
import type { Logger } from './platform/logger.ts';
import { Problem } from './platform/http/problem.ts';
import {
  createHttpServer,
  sendProblem,
  type HttpServer,
  type RequestObserver,
} from './platform/http/http-server.ts';
import { Action } from './modules/actions/actions.schemas.ts';
import { actionsRoutes } from './modules/actions/actions.routes.ts';
import type { ActionsService } from './modules/actions/actions.service.ts';
import { auditRoutes } from './modules/audit/audit.routes.ts';
import type { AuditService } from './modules/audit/audit.service.ts';
import type { RoleGuard } from './modules/auth/auth.guard.ts';
import { healthRoutes, type ReadinessCheck } from './modules/health/health.routes.ts';
import { toolsRoutes } from './modules/tools/tools.routes.ts';
import type { ToolRegistry } from './modules/tools/tool-registry.ts';
import { policyRoutes } from './modules/policy/policy.routes.ts';
import type { PolicyService } from './modules/policy/policy.service.ts';
import { reviewsRoutes } from './modules/reviews/reviews.routes.ts';
import type { ReviewsService } from './modules/reviews/reviews.service.ts';
import { reportsRoutes } from './modules/reports/reports.routes.ts';
import { operatorRoutes } from './modules/auth/operator.routes.ts';
import type { AuthService } from './modules/auth/auth.service.ts';
import type { ReportsService } from './modules/reports/reports.service.ts';
import { authRoutes } from './modules/auth/auth.routes.ts';
import { opsRoutes } from './modules/ops/ops.routes.ts';
import type { OpsService } from './modules/ops/ops.service.ts';
import { actionDetailsRoutes } from './modules/action-details/action-details.routes.ts';
import type { ActionDetailsService } from './modules/action-details/action-details.service.ts';
import { consoleRoutes } from './modules/console/console.routes.ts';
import { drillsRoutes } from './modules/drills/drills.routes.ts';
import type { DrillViewService } from './modules/drills/drill-view.ts';
import { runbooksRoutes } from './modules/runbooks/runbooks.routes.ts';
import { alertsRoutes } from './modules/alerts/alerts.routes.ts';
import type { AlertInboxService } from './modules/alerts/alerts.service.ts';

export interface AppDeps {
  logger: Logger;
  version: string;
  http: { bodyLimitBytes: number; requestTimeoutMs: number; maxEventLoopDelayMs: number };
  guard: RoleGuard;
  actions: ActionsService;
  audit: AuditService;
  tools: ToolRegistry;
  policies: PolicyService;
  reviews: ReviewsService;
  reports: ReportsService;
  // The console and the API it uses beyond the contract's endpoints.
  console: { ops: OpsService; details: ActionDetailsService; drills: DrillViewService };
  readiness: readonly ReadinessCheck[];
  isDraining: () => boolean;
  metrics: { contentType: string; text(): Promise<string> };
  // False for the worker role: it serves health and metrics only.
  exposeApi?: boolean;
  observeRequest?: RequestObserver;
  onLoadShed?: () => void;
  // Set only when tracing is on: one server span per request, the parent of every other.
  tracer?: Tracer;
  // Enables POST /v1/operator/keys (AIRLOCK_OPERATOR_TOKEN); unset, the route does not exist.
  operator?: { auth: Pick<AuthService, 'createKey'>; token: string };
  // The alert inbox; the Alertmanager webhook exists only with its token (ALERT_WEBHOOK_TOKEN).
  alerts: { inbox: AlertInboxService; webhookToken: string | undefined };
  // One deadline per request (src/platform/request-deadline.ts).
  deadlines?: { scope: DeadlineScope; ms: number };
}

// The one app factory: production and every test build the app here, with the same
// validation, error handling and limits.
export async function buildApp(deps: AppDeps) {
  const app = createHttpServer({
    logger: deps.logger,
    bodyLimitBytes: deps.http.bodyLimitBytes,
    requestTimeoutMs: deps.http.requestTimeoutMs,
    observeRequest: deps.observeRequest,
    accessLogFields: (request) => ({ tenant: request.principal?.tenantSlug }),
  });
  if (deps.tracer) traceRequests(app, deps.tracer);
  if (deps.deadlines) enforceDeadlines(app, deps.deadlines);

  app.decorateRequest('principal', null);
  app.addSchema(Problem);
  app.addSchema(Action);

  await app.register(underPressure, {
    maxEventLoopDelay: deps.http.maxEventLoopDelayMs,
    exposeStatusRoute: false,
    pressureHandler: (request: FastifyRequest, reply: FastifyReply) => {
      // Liveness must answer under load, or the orchestrator would kill a busy process.
      if (request.url === '/livez' || request.url === '/metrics') return;
      deps.onLoadShed?.();
      reply.header('retry-after', '1');
      void sendProblem(
        new AppError('overloaded', 503, 'The service is shedding load; retry shortly.'),
        request,
        reply,
        deps.logger,
      );
    },
  });

  await app.register(swagger, {
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Airlock API',
        version: deps.version,
        description: 'An AI tool-action gateway: propose, decide, review, execute and audit tool actions.',
      },
      components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } } },
      security: [{ bearer: [] }],
    },
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => String(json.$id ?? `def-${i}`) },
  });
  await app.register(swaggerUi, { routePrefix: '/docs' });
  // A browser pointed at the service lands on its reference rather than a 404.
  app.get('/', { schema: { hide: true } }, async (_request, reply) => reply.redirect('/docs', 302));

  await app.register(healthRoutes, { checks: deps.readiness, isDraining: deps.isDraining });
  app.get('/metrics', { schema: { hide: true } }, async (_request, reply) =>
    reply.type(deps.metrics.contentType).send(await deps.metrics.text()),
  );
  app.get('/openapi.json', { schema: { hide: true } }, async () => app.swagger());

  if (deps.exposeApi === false) return app;
  await app.register(actionsRoutes, { actions: deps.actions, guard: deps.guard });
  await app.register(reviewsRoutes, { reviews: deps.reviews, guard: deps.guard });
  await app.register(reportsRoutes, { reports: deps.reports, guard: deps.guard });
  await app.register(toolsRoutes, { tools: deps.tools, guard: deps.guard });
  await app.register(policyRoutes, { policies: deps.policies, guard: deps.guard });
  await app.register(auditRoutes, { audit: deps.audit, guard: deps.guard });
  await app.register(authRoutes, { guard: deps.guard });
  await app.register(opsRoutes, { ops: deps.console.ops, guard: deps.guard });
  await app.register(actionDetailsRoutes, { details: deps.console.details, guard: deps.guard });
  await app.register(drillsRoutes, { drills: deps.console.drills, guard: deps.guard });
  await app.register(consoleRoutes);
  await app.register(runbooksRoutes);
  await app.register(alertsRoutes, { ...deps.alerts, guard: deps.guard });
  if (deps.operator) await app.register(operatorRoutes, deps.operator);

  return app;
}

// Every request runs inside its deadline's scope. Body parsing runs on stream events, outside
// the async context the request started in, so the scope is entered again after it.
function enforceDeadlines(app: HttpServer, deadlines: { scope: DeadlineScope; ms: number }): void {
  const byRequest = new WeakMap<FastifyRequest, Deadline>();
  app.addHook('onRequest', (request, _reply, done) => {
    const deadline = createDeadline(deadlines.ms);
    byRequest.set(request, deadline);
    deadlines.scope.run(deadline, done);
  });
  app.addHook('preValidation', (request, _reply, done) => {
    const deadline = byRequest.get(request);
    if (deadline) deadlines.scope.run(deadline, done);
    else done();
  });
  const dispose = async (request: FastifyRequest) => byRequest.get(request)?.dispose();
  app.addHook('onResponse', dispose);
  app.addHook('onRequestAbort', dispose);
}
