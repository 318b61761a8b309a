import { Type } from 'typebox';

const Hostname = Type.String({
  minLength: 1,
  maxLength: 253,
  pattern:
    '^(\\*\\.)?[A-Za-z0-9]([A-Za-z0-9-]{0,62})?(\\.[A-Za-z0-9]([A-Za-z0-9-]{0,62})?)*$|^\\[?[0-9A-Fa-f:.]+\\]?$',
});

// Request and response are separate schemas: the request rejects unknown fields, the
// response may grow.
export const PolicyBody = Type.Object(
  {
    email_allowed_domains: Type.Array(Hostname, { maxItems: 500, uniqueItems: true }),
    fetch_allowed_hosts: Type.Array(Hostname, { maxItems: 500, uniqueItems: true }),
    refund_review_above_cents: Type.Integer({ minimum: 0, maximum: 10_000_000 }),
    rate_limit_per_user_per_minute: Type.Integer({ minimum: 1, maximum: 100_000 }),
    report_threshold: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000 })),
    report_window_minutes: Type.Optional(Type.Integer({ minimum: 1, maximum: 525_600 })),
  },
  { additionalProperties: false },
);

export const PolicyView = Type.Object({
  email_allowed_domains: Type.Array(Type.String()),
  fetch_allowed_hosts: Type.Array(Type.String()),
  refund_review_above_cents: Type.Integer(),
  rate_limit_per_user_per_minute: Type.Integer(),
  report_threshold: Type.Integer(),
  report_window_minutes: Type.Integer(),
});
