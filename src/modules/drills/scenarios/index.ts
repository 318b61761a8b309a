import type { DrillScenario } from '../drill-types.ts';
import { dbSlowQueries } from './db-slow-queries.ts';

// Every drill `cli drill list` offers, in the order it lists them.
export const SCENARIOS: readonly DrillScenario[] = [dbSlowQueries];

export function findScenario(name: string): DrillScenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
