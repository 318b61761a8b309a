import { Type } from 'typebox';

const Count = Type.Integer({ minimum: 0 });
const Seconds = Type.Number({ minimum: 0 });

export const OpsOverview = Type.Object({
  generated_at: Type.String({ format: 'date-time' }),
  queue: Type.Object({
    waiting: Count,
    active: Count,
    delayed: Count,
    prioritized: Count,
    failed: Count,
    oldest_waiting_age_seconds: Seconds,
  }),
  outbox: Type.Object({ pending: Count, oldest_age_seconds: Seconds }),
  breakers: Type.Array(
    Type.Object({
      dependency: Type.String(),
      state: Type.Union([Type.Literal('closed'), Type.Literal('open'), Type.Literal('half_open')]),
    }),
  ),
  reviews: Type.Object({ pending: Count, oldest_age_seconds: Seconds, slo_seconds: Count }),
  flags_provider: Type.String(),
});

const BlastRadius = Type.Object({
  tenant: Type.String(),
  tools: Type.Array(Type.String()),
  window_minutes: Count,
  proposals: Count,
  allowed: Count,
  in_flight: Count,
  pending_review: Count,
  if_enabled: Type.String(),
  if_disabled: Type.String(),
});

export const FlagView = Type.Object({
  name: Type.String(),
  kind: Type.Union([Type.Literal('kill_switch'), Type.Literal('rollout_gate')]),
  description: Type.String(),
  effective: Type.Boolean(),
  tenant_value: Type.Union([Type.Boolean(), Type.Null()]),
  global_value: Type.Boolean(),
  blast_radius: BlastRadius,
});

export const FlagList = Type.Object({ provider: Type.String(), items: Type.Array(FlagView) });

export const FlagParams = Type.Object(
  { name: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

export const SetFlagBody = Type.Object({ enabled: Type.Boolean() }, { additionalProperties: false });

export const DeadLetterList = Type.Object({
  items: Type.Array(
    Type.Object({
      job_id: Type.String(),
      action_id: Type.String(),
      attempts: Count,
      failed_reason: Type.String(),
      failed_at: Type.Union([Type.String(), Type.Null()]),
    }),
  ),
  total: Count,
});

export const DeadLetterQuery = Type.Object(
  { limit: Type.Integer({ minimum: 1, maximum: 100, default: 50 }) },
  { additionalProperties: false },
);

export const DeadLetterParams = Type.Object(
  { job_id: Type.String({ minLength: 1, maxLength: 128 }) },
  { additionalProperties: false },
);

// Replay takes no options today; the empty object keeps unknown fields out.
export const ReplayBody = Type.Object({}, { additionalProperties: false });

export const ReplayResult = Type.Object({
  job_id: Type.String(),
  action_id: Type.String(),
  replayed: Type.Boolean(),
  detail: Type.String(),
});

export const DiscardBody = Type.Object(
  { reason: Type.Optional(Type.String({ minLength: 1, maxLength: 2_000 })) },
  { additionalProperties: false },
);

export const DiscardResult = Type.Object({
  job_id: Type.String(),
  action_id: Type.String(),
  discarded: Type.Boolean(),
  detail: Type.String(),
});
