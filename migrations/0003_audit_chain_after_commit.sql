-- The audit chain is linked after commit (ADR 0010). A writer records an event with its
-- content hash and no place in the chain; the chainer later gives it seq, prev_hash and
-- hash under the tenant's head-row lock. Writers no longer lock anything shared, so one
-- tenant's transactions stop queueing on its audit_heads row.
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS id bigint GENERATED ALWAYS AS IDENTITY;
ALTER TABLE audit_events ADD COLUMN IF NOT EXISTS content_hash text;
ALTER TABLE audit_events DROP CONSTRAINT IF EXISTS audit_events_pkey;
ALTER TABLE audit_events ADD CONSTRAINT audit_events_pkey PRIMARY KEY (id);
ALTER TABLE audit_events
  ALTER COLUMN seq DROP NOT NULL,
  ALTER COLUMN prev_hash DROP NOT NULL,
  ALTER COLUMN hash DROP NOT NULL;
-- Gap-free and unique per tenant once linked; NULLs (not yet linked) do not collide.
CREATE UNIQUE INDEX IF NOT EXISTS audit_events_tenant_seq_key ON audit_events (tenant_id, seq);
-- The chainer's work list: small, because events leave it within a pass or two.
CREATE INDEX IF NOT EXISTS audit_events_unchained_idx ON audit_events (tenant_id, id) WHERE seq IS NULL;
-- An event is either recorded and waiting (content hash only) or linked (all three).
ALTER TABLE audit_events ADD CONSTRAINT audit_events_linked_or_waiting CHECK (
  (seq IS NULL AND prev_hash IS NULL AND hash IS NULL AND content_hash IS NOT NULL)
  OR (seq IS NOT NULL AND prev_hash IS NOT NULL AND hash IS NOT NULL)
);
