import { Type } from 'typebox';

const Seconds = Type.Union([Type.Integer({ minimum: 0 }), Type.Null()]);
const NullableString = Type.Union([Type.String(), Type.Null()]);

const CheckView = Type.Object({ name: Type.String(), passed: Type.Boolean(), detail: Type.String() });

const DrillView = Type.Object({
  id: Type.String({ format: 'uuid' }),
  scenario: Type.String(),
  state: Type.Union([
    Type.Literal('running'),
    Type.Literal('passed'),
    Type.Literal('stopped'),
    Type.Literal('expired'),
  ]),
  started_at: Type.String({ format: 'date-time' }),
  deadline_at: Type.String({ format: 'date-time' }),
  tenant: Type.String({ description: "The drill's own tenant, which its traffic and fault use" }),
  symptom: NullableString,
  expected_alert: NullableString,
  runbook_url: NullableString,
  mitigation: NullableString,
  timeline: Type.Array(
    Type.Object({ at: Type.String({ format: 'date-time' }), kind: Type.String(), message: Type.String() }),
    { maxItems: 2_000 },
  ),
  alerts: Type.Array(
    Type.Object({
      name: Type.String(),
      state: Type.Literal('firing'),
      severity: NullableString,
      since: Type.String(),
      summary: NullableString,
      runbook_url: NullableString,
    }),
  ),
  check: Type.Union([
    Type.Object({
      at: Type.String({ format: 'date-time' }),
      passed: Type.Boolean(),
      checks: Type.Array(CheckView),
    }),
    Type.Null(),
  ]),
  score: Type.Union([
    Type.Object({
      time_to_fire_s: Seconds,
      time_to_detect_s: Seconds,
      time_to_mitigate_s: Seconds,
      time_to_recover_s: Seconds,
      wrong_actions: Type.Integer({ minimum: 0 }),
    }),
    Type.Null(),
  ]),
});

export const CurrentDrill = Type.Object({ drill: Type.Union([DrillView, Type.Null()]) });
