-- Alerts (docs/adr/0022-local-alert-evaluation.md). Operator-wide state, not tenant data:
-- what pages is about the shared service (its queues, pools and SLOs), so these tables have
-- no tenant column and the rules must not label alerts with tenant identifiers.

-- The alert inbox: what Alertmanager delivered to POST /v1/alerts/webhook, and what the
-- local evaluation fired when no Prometheus runs. One row per alert occurrence (an alert's
-- label set and the time it started firing); a later notification updates its status.
CREATE TABLE IF NOT EXISTS alert_notifications (
  id                 uuid PRIMARY KEY DEFAULT gen_random_uuid(),
  fingerprint        text NOT NULL,
  starts_at          timestamptz NOT NULL,
  name               text NOT NULL,
  status             text NOT NULL CHECK (status IN ('firing', 'resolved')),
  severity           text,
  labels             jsonb NOT NULL,
  annotations        jsonb NOT NULL,
  ends_at            timestamptz,
  generator_url      text,
  -- alertmanager:<receiver>, or local for the local evaluation.
  source             text NOT NULL,
  first_received_at  timestamptz NOT NULL DEFAULT now(),
  updated_at         timestamptz NOT NULL DEFAULT now(),
  UNIQUE (fingerprint, starts_at)
);
CREATE INDEX IF NOT EXISTS alert_notifications_list_idx
  ON alert_notifications (status, starts_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS alert_notifications_recent_idx
  ON alert_notifications (starts_at DESC, id DESC);

-- The local evaluation of the shipped rule files (src/modules/alerts/local-alert-source.ts):
-- the evaluating process writes every alert it holds after each evaluation, so another
-- process (`drill status`) reads the same pending and firing alerts.
CREATE TABLE IF NOT EXISTS evaluated_alerts (
  fingerprint  text PRIMARY KEY,
  name         text NOT NULL,
  state        text NOT NULL CHECK (state IN ('pending', 'firing', 'inactive')),
  labels       jsonb NOT NULL,
  annotations  jsonb NOT NULL,
  value        double precision,
  active_at    timestamptz NOT NULL,
  fired_at     timestamptz,
  resolved_at  timestamptz
);

-- One row: when the local evaluation last ran, how often it runs, and what it could scrape,
-- so a reader can tell "nothing is firing" from "nothing is evaluating".
CREATE TABLE IF NOT EXISTS alert_evaluation (
  id            boolean PRIMARY KEY DEFAULT true CHECK (id),
  evaluated_at  timestamptz NOT NULL,
  interval_ms   integer NOT NULL,
  targets       jsonb NOT NULL,
  failures      jsonb NOT NULL
);
