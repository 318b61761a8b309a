import { Type, type Static } from 'typebox';

// Alertmanager's webhook payload, version 4 (the only version Alertmanager sends), bounded:
// a group carries at most max_alerts alerts (50 in observability/alertmanager/alertmanager.yml).
const LabelMap = Type.Record(
  Type.String({ minLength: 1, maxLength: 128 }),
  Type.String({ maxLength: 1024 }),
  {
    maxProperties: 64,
  },
);
const AnnotationMap = Type.Record(
  Type.String({ minLength: 1, maxLength: 128 }),
  Type.String({ maxLength: 8192 }),
  {
    maxProperties: 32,
  },
);
const Status = Type.Union([Type.Literal('firing'), Type.Literal('resolved')]);

export const WebhookAlert = Type.Object(
  {
    status: Status,
    labels: LabelMap,
    annotations: AnnotationMap,
    startsAt: Type.String({ format: 'date-time' }),
    // "0001-01-01T00:00:00Z" while an alert has no end.
    endsAt: Type.String({ format: 'date-time' }),
    generatorURL: Type.String({ maxLength: 2048 }),
    fingerprint: Type.String({ pattern: '^[0-9a-f]{1,64}$' }),
  },
  { additionalProperties: false },
);

export const WebhookBody = Type.Object(
  {
    version: Type.Literal('4'),
    groupKey: Type.String({ maxLength: 4096 }),
    truncatedAlerts: Type.Integer({ minimum: 0 }),
    status: Status,
    receiver: Type.String({ minLength: 1, maxLength: 256 }),
    groupLabels: LabelMap,
    commonLabels: LabelMap,
    commonAnnotations: AnnotationMap,
    externalURL: Type.String({ maxLength: 2048 }),
    alerts: Type.Array(WebhookAlert, { maxItems: 200 }),
  },
  { additionalProperties: false },
);
export type WebhookBody = Static<typeof WebhookBody>;

export const WebhookAccepted = Type.Object({ accepted: Type.Integer({ minimum: 0 }) });

export const AlertQuery = Type.Object(
  {
    state: Type.Optional(Status),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type AlertQuery = Static<typeof AlertQuery>;

export const AlertView = Type.Object({
  name: Type.String(),
  state: Status,
  severity: Type.Union([Type.String(), Type.Null()]),
  // When the alert started firing.
  since: Type.String({ format: 'date-time' }),
  resolved_at: Type.Union([Type.String({ format: 'date-time' }), Type.Null()]),
  runbook_url: Type.Union([Type.String(), Type.Null()]),
  summary: Type.Union([Type.String(), Type.Null()]),
  labels: Type.Record(Type.String(), Type.String()),
  // alertmanager:<receiver>, or local (the drill runner's own evaluation).
  source: Type.String(),
});
export type AlertView = Static<typeof AlertView>;

export const AlertPage = Type.Object({
  items: Type.Array(AlertView),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
