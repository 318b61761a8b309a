-- The dead-letter store lives in Postgres, the system of record: a job that exhausted its
-- attempts (or failed permanently) is recorded here in the same statement that marks its
-- action failed, so the two never disagree, and Redis losing its data loses no dead
-- letter. BullMQ's failed set is only a mirror. job_id (outbox-<id>) is the handle
-- operators use; a replayed action gets a new outbox row, so a new job id, and a new row
-- here if it fails again.
CREATE TABLE IF NOT EXISTS dead_letters (
  job_id       text PRIMARY KEY,
  tenant_id    uuid NOT NULL REFERENCES tenants (id),
  action_id    uuid NOT NULL REFERENCES actions (id),
  tool         text NOT NULL,
  attempts     integer NOT NULL,
  error        jsonb NOT NULL,
  -- open: awaiting an operator; replayed: sent back through the outbox; discarded:
  -- quarantined, the action stays failed and no bulk replay picks it up.
  state        text NOT NULL DEFAULT 'open' CHECK (state IN ('open', 'replayed', 'discarded')),
  failed_at    timestamptz NOT NULL DEFAULT now(),
  resolved_at  timestamptz,
  resolved_by  text,
  CHECK ((state = 'open') = (resolved_at IS NULL))
);
-- Listing (newest first) and bulk replay, across tenants and within one.
CREATE INDEX IF NOT EXISTS dead_letters_state_idx ON dead_letters (state, failed_at DESC, job_id DESC);
CREATE INDEX IF NOT EXISTS dead_letters_tenant_state_idx
  ON dead_letters (tenant_id, state, failed_at DESC, job_id DESC);
