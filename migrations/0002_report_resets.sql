-- User-report escalation counts reports since the last reset an admin made for a
-- (tenant, tool); without a row, every report in the window counts.
CREATE TABLE IF NOT EXISTS report_resets (
  tenant_id   uuid NOT NULL REFERENCES tenants (id),
  tool        text NOT NULL,
  reset_at    timestamptz NOT NULL,
  reset_by    text NOT NULL,
  PRIMARY KEY (tenant_id, tool)
);
