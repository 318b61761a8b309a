-- Airlock's initial schema. Every business table carries tenant_id, and every query
-- filters on it: tenant isolation is a WHERE clause we never omit, tested per endpoint.

CREATE TABLE IF NOT EXISTS tenants (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  slug        text NOT NULL UNIQUE CHECK (slug ~ '^[a-z0-9][a-z0-9-]{0,62}$'),
  created_at  timestamptz NOT NULL DEFAULT now()
);

-- Keys are stored only as SHA-256 hashes of high-entropy secrets; a slow KDF buys nothing
-- for 256-bit random keys and would cost every request (ADR 0004).
CREATE TABLE IF NOT EXISTS api_keys (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  role        text NOT NULL CHECK (role IN ('agent', 'reviewer', 'admin')),
  tools       text[],            -- NULL: every tool
  key_hash    bytea NOT NULL UNIQUE,
  created_at  timestamptz NOT NULL DEFAULT now(),
  revoked_at  timestamptz
);

CREATE TABLE IF NOT EXISTS actions (
  id          uuid PRIMARY KEY,
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  tool        text NOT NULL,
  arguments   jsonb NOT NULL,
  user_id     text NOT NULL,
  context     jsonb NOT NULL DEFAULT '{}'::jsonb,
  status      text NOT NULL CHECK (status IN
                ('pending_review', 'queued', 'running', 'succeeded', 'failed', 'denied', 'rejected')),
  decision    jsonb NOT NULL,
  result      jsonb,
  error       jsonb,
  attempts    integer NOT NULL DEFAULT 0,
  -- Bumped on every change; the read cache never replaces a newer version with an older one.
  version     integer NOT NULL DEFAULT 1,
  queued_at   timestamptz,
  created_at  timestamptz NOT NULL DEFAULT now(),
  updated_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS actions_tenant_newest_idx ON actions (tenant_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS actions_tenant_user_idx ON actions (tenant_id, user_id, created_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS actions_pending_review_idx ON actions (tenant_id, created_at, id)
  WHERE status = 'pending_review';

-- An idempotency key is claimed before the work starts (locked_until in the future) and
-- completed in the same transaction that writes the action. A claim whose holder died
-- expires and may be taken over.
CREATE TABLE IF NOT EXISTS idempotency_keys (
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  key           text NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
  request_hash  text NOT NULL,
  -- Identifies the current holder: completing or releasing needs it, so a request that
  -- outlived its lease cannot touch a claim another request has taken over.
  claim_token   uuid NOT NULL,
  action_id     uuid REFERENCES actions (id),
  locked_until  timestamptz,
  created_at    timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (tenant_id, key)
);

-- Transactional outbox: written in the transaction that changes the action, published to
-- BullMQ by the relay with job id = outbox id.
CREATE TABLE IF NOT EXISTS outbox (
  id             bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
  tenant_id      uuid NOT NULL REFERENCES tenants (id),
  action_id      uuid NOT NULL REFERENCES actions (id),
  topic          text NOT NULL,
  payload        jsonb NOT NULL,
  trace_context  jsonb,
  created_at     timestamptz NOT NULL DEFAULT now(),
  published_at   timestamptz
);
CREATE INDEX IF NOT EXISTS outbox_unpublished_idx ON outbox (id) WHERE published_at IS NULL;

-- The audit log is one SHA-256 hash chain per tenant. audit_heads holds each chain's tip
-- (and the hash before it, so one statement can append); locking that row serialises
-- appends within a tenant and nowhere else.
CREATE TABLE IF NOT EXISTS audit_heads (
  tenant_id  uuid PRIMARY KEY REFERENCES tenants (id),
  last_seq   bigint NOT NULL,
  last_hash  text NOT NULL,
  prev_hash  text NOT NULL
);
CREATE TABLE IF NOT EXISTS audit_events (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  seq         bigint NOT NULL,
  action_id   uuid,
  type        text NOT NULL,
  actor       text NOT NULL,
  data        jsonb NOT NULL,
  created_at  timestamptz NOT NULL,
  prev_hash   text NOT NULL,
  hash        text NOT NULL,
  PRIMARY KEY (tenant_id, seq)
);
CREATE INDEX IF NOT EXISTS audit_events_action_idx ON audit_events (tenant_id, action_id, seq);

CREATE TABLE IF NOT EXISTS tenant_policies (
  tenant_id   uuid PRIMARY KEY REFERENCES tenants (id),
  policy      jsonb NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS reports (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  action_id   uuid NOT NULL REFERENCES actions (id),
  tool        text NOT NULL,
  reason      text NOT NULL,
  details     text,
  reporter    text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX IF NOT EXISTS reports_tenant_tool_idx ON reports (tenant_id, tool, created_at);

-- Local flag provider. scope '' is the global value; a tenant id overrides it for that tenant.
CREATE TABLE IF NOT EXISTS flags (
  name        text NOT NULL,
  scope       text NOT NULL DEFAULT '',
  enabled     boolean NOT NULL,
  updated_at  timestamptz NOT NULL DEFAULT now(),
  PRIMARY KEY (name, scope)
);

-- Tool sandboxes. Each effect row is unique per action: that constraint, not luck, makes
-- execution exactly-once in effect across retries and redelivery.
CREATE TABLE IF NOT EXISTS sandbox_notes (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  action_id   uuid NOT NULL UNIQUE REFERENCES actions (id),
  title       text NOT NULL,
  body        text NOT NULL,
  created_at  timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_mailbox (
  id          uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  action_id   uuid NOT NULL UNIQUE REFERENCES actions (id),
  to_address  text NOT NULL,
  subject     text NOT NULL,
  body        text NOT NULL,
  sent_at     timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_refunds (
  id            uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  tenant_id     uuid NOT NULL REFERENCES tenants (id),
  action_id     uuid NOT NULL UNIQUE REFERENCES actions (id),
  order_id      text NOT NULL,
  amount_cents  bigint NOT NULL CHECK (amount_cents > 0),
  currency      text NOT NULL,
  created_at    timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE IF NOT EXISTS sandbox_files (
  tenant_id          uuid NOT NULL REFERENCES tenants (id),
  path               text NOT NULL,
  content            text NOT NULL DEFAULT '',
  created_at         timestamptz NOT NULL DEFAULT now(),
  deleted_at         timestamptz,
  deleted_by_action  uuid UNIQUE REFERENCES actions (id),
  PRIMARY KEY (tenant_id, path)
);
