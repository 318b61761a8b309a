import type { DrillScenario } from '../drill-types.ts';
import { cacheStampede } from './cache-stampede.ts';
import { dbSlowQueries } from './db-slow-queries.ts';
import { moderationOutage } from './moderation-outage.ts';
import { poisonJob } from './poison-job.ts';
import { poolExhaustion } from './pool-exhaustion.ts';
import { redisOutage } from './redis-outage.ts';
import { retryStorm } from './retry-storm.ts';

// Every drill `cli drill list` offers, in the order it lists them.
export const SCENARIOS: readonly DrillScenario[] = [
  dbSlowQueries,
  moderationOutage,
  retryStorm,
  cacheStampede,
  poisonJob,
  poolExhaustion,
  redisOutage,
];

export function findScenario(name: string): DrillScenario | undefined {
  return SCENARIOS.find((scenario) => scenario.name === name);
}
