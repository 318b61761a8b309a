-- Idempotency keys are kept for a retention (IDEMPOTENCY_RETENTION_HOURS, 24 h by default,
-- as Stripe does) and then swept in small batches; the sweep reads them oldest first.
CREATE INDEX IF NOT EXISTS idempotency_keys_created_idx ON idempotency_keys (created_at);
