-- A drill's traffic key is minted by its runner and held in the runner's memory only
-- (docs/adr/0021-drills.md): the drill row no longer keeps the tenant's keys in clear.
-- Drills do not outlive a deploy (each ends within DRILL_MAX_DURATION_MS), so no running
-- version still reads the column.
ALTER TABLE drills DROP COLUMN IF EXISTS tenant_keys;
