-- On-call drills (docs/adr/0021-drills.md). A drill's state lives here, not in the process
-- that runs it: the runner may crash, and `drill status|check|stop` are separate processes
-- that must all see the same drill.
CREATE TABLE IF NOT EXISTS drills (
  id                   uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  scenario             text NOT NULL,
  -- running: the fault is in place; passed: `drill check` passed (the runner keeps the
  -- traffic going until stop); stopped: `drill stop` restored a clean state; expired: the
  -- drill reached its maximum duration and the runner restored a clean state itself.
  state                text NOT NULL DEFAULT 'running'
                         CHECK (state IN ('running', 'passed', 'stopped', 'expired')),
  -- The drill's own tenant: the background traffic and the fault touch no other tenant.
  tenant_slug          text NOT NULL,
  tenant_id            uuid REFERENCES tenants (id),
  -- That tenant's keys while the drill is active, so every drill process can act as the
  -- tenant; revoked and cleared when the drill ends.
  tenant_keys          jsonb,
  started_at           timestamptz NOT NULL DEFAULT now(),
  deadline_at          timestamptz NOT NULL,
  ended_at             timestamptz,
  runner_pid           integer,
  runner_heartbeat_at  timestamptz,
  -- What the background traffic saw so far (requests, 5xx, timeouts), for the impact section.
  traffic              jsonb,
  -- The first `drill status` after the expected alert fired.
  detected_at          timestamptz,
  passed_at            timestamptz,
  score                jsonb,
  postmortem_path      text,
  CHECK ((state IN ('running', 'passed')) = (ended_at IS NULL))
);
-- One active drill at most: a second `drill start` fails on this index, whatever races.
CREATE UNIQUE INDEX IF NOT EXISTS drills_one_active_idx ON drills ((true)) WHERE ended_at IS NULL;
CREATE INDEX IF NOT EXISTS drills_started_idx ON drills (started_at DESC);

-- The timeline: what happened, when, in the order it was recorded.
CREATE TABLE IF NOT EXISTS drill_events (
  id        bigserial PRIMARY KEY,
  drill_id  uuid NOT NULL REFERENCES drills (id),
  at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  kind      text NOT NULL CHECK (kind ~ '^[a-z][a-z0-9_.-]{0,63}$'),
  message   text NOT NULL,
  data      jsonb
);
CREATE INDEX IF NOT EXISTS drill_events_drill_idx ON drill_events (drill_id, id);

-- Every `drill check`, passed or not, with each check's verdict.
CREATE TABLE IF NOT EXISTS drill_checks (
  id        bigserial PRIMARY KEY,
  drill_id  uuid NOT NULL REFERENCES drills (id),
  at        timestamptz NOT NULL DEFAULT clock_timestamp(),
  passed    boolean NOT NULL,
  checks    jsonb NOT NULL
);
CREATE INDEX IF NOT EXISTS drill_checks_drill_idx ON drill_checks (drill_id, id);
