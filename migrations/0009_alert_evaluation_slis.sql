-- The SLIs the local evaluation last recorded (src/modules/alerts/sli-readings.ts): each
-- SLO's bad-event ratio over 5 minutes beside its error budget, read by `drill check`.
ALTER TABLE alert_evaluation ADD COLUMN IF NOT EXISTS slis jsonb NOT NULL DEFAULT '[]'::jsonb;
