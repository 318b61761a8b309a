import { ACTION_STATUSES } from './action-types.ts';
import { Type, type Static } from 'typebox';

const JsonObject = Type.Record(Type.String(), Type.Unknown());

export const ProposalContext = Type.Object(
  {
    conversation_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    user_prompt: Type.Optional(Type.String({ maxLength: 20_000 })),
    model_rationale: Type.Optional(Type.String({ maxLength: 5_000 })),
    source_documents: Type.Optional(
      Type.Array(
        Type.Object(
          {
            source: Type.String({ minLength: 1, maxLength: 2_048 }),
            content: Type.String({ maxLength: 50_000 }),
          },
          { additionalProperties: false },
        ),
        { maxItems: 20 },
      ),
    ),
  },
  { additionalProperties: false },
);

export const ProposeActionBody = Type.Object(
  {
    tool: Type.String({ minLength: 1, maxLength: 64 }),
    arguments: JsonObject,
    user_id: Type.String({ minLength: 1, maxLength: 128 }),
    context: Type.Optional(ProposalContext),
  },
  { additionalProperties: false },
);
export type ProposeActionBody = Static<typeof ProposeActionBody>;

export const ProposeActionHeaders = Type.Object({
  'idempotency-key': Type.String({
    minLength: 1,
    maxLength: 255,
    description:
      'Required. A new key makes a new proposal; the same key with the same body replays it (200, Idempotent-Replayed: true); with another body it is 422 idempotency_key_mismatch. Remembered for IDEMPOTENCY_RETENTION_HOURS.',
  }),
});

const Reason = Type.Object({
  code: Type.String(),
  message: Type.String(),
  evidence: Type.Optional(Type.String()),
});

const ActionStatusSchema = Type.Union(ACTION_STATUSES.map((status) => Type.Literal(status)));

export const Action = Type.Object(
  {
    id: Type.String({ format: 'uuid' }),
    object: Type.Literal('action'),
    tool: Type.String(),
    arguments: Type.Record(Type.String(), Type.Unknown(), {
      description:
        "As proposed, for reviewer and admin keys. For agent keys, masked as `result` is: secrets, card numbers, phone numbers and e-mail addresses outside the tenant's email_allowed_domains.",
    }),
    user_id: Type.String(),
    status: ActionStatusSchema,
    decision: Type.Object({
      outcome: Type.Union([Type.Literal('allow'), Type.Literal('review'), Type.Literal('deny')]),
      risk_score: Type.Integer({ minimum: 0, maximum: 100 }),
      reasons: Type.Array(Reason),
    }),
    result: Type.Union([JsonObject, Type.Null()]),
    error: Type.Union([Type.Object({ code: Type.String(), message: Type.String() }), Type.Null()]),
    attempts: Type.Integer({ minimum: 0 }),
    created_at: Type.String({ format: 'date-time' }),
    updated_at: Type.String({ format: 'date-time' }),
  },
  { $id: 'Action' },
);

export const ActionIdParams = Type.Object(
  { id: Type.String({ maxLength: 64 }) },
  { additionalProperties: false },
);

export const ListActionsQuery = Type.Object(
  {
    status: Type.Optional(ActionStatusSchema),
    user_id: Type.Optional(Type.String({ minLength: 1, maxLength: 128 })),
    tool: Type.Optional(Type.String({ minLength: 1, maxLength: 64 })),
    limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
    cursor: Type.Optional(Type.String({ maxLength: 256 })),
  },
  { additionalProperties: false },
);
export type ListActionsQuery = Static<typeof ListActionsQuery>;

export const ActionList = Type.Object({
  items: Type.Array(Type.Ref('Action')),
  next_cursor: Type.Union([Type.String(), Type.Null()]),
});
