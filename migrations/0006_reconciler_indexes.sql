-- The execution reconciler (ADR 0019) walks the open actions in (updated_at, id) order and
-- looks up each one's latest outbox row; without these, both would scan whole tables every
-- RECONCILE_INTERVAL_MS. The partial index stays as small as the backlog.
CREATE INDEX IF NOT EXISTS actions_open_idx ON actions (updated_at, id) WHERE status IN ('queued', 'running');
CREATE INDEX IF NOT EXISTS outbox_action_idx ON outbox (action_id, id);
