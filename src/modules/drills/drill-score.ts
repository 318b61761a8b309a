import { isMitigation, type TimelineEntry } from './drill-types.ts';
import type { DrillScore } from './drills.repository.ts';

// The score, from the timeline alone, so the same numbers come out of `drill check`, `drill
// stop`, the console and the postmortem. Every time is counted from the moment the fault
// was in place, the start of the incident as users would have felt it:
//  - time to fire: until the expected alert fired (the alerting's part, not the learner's);
//  - time to detect: until the first `drill status` after it fired (someone looked);
//  - time to mitigate: until the first mitigation the scenario observed (someone acted),
//    or, for a scenario that observes none, until the check passed;
//  - time to recover: until `drill check` passed (alerts resolved, SLIs back).
export function scoreDrill(timeline: readonly TimelineEntry[], expectedAlert: string): DrillScore {
  const first = (match: (entry: TimelineEntry) => boolean): number | undefined => {
    const entry = timeline.find(match);
    return entry ? Date.parse(entry.at) : undefined;
  };
  const faultAt = first((e) => e.kind === 'fault.injected') ?? first((e) => e.kind === 'drill.started');
  const firedAt = first((e) => e.kind === 'alert.firing' && e.data?.name === expectedAlert);
  const detectedAt = first((e) => e.kind === 'detected');
  const passedAt = first((e) => e.kind === 'check.passed');
  const mitigatedAt = first(isMitigation) ?? passedAt;
  const since = (at: number | undefined): number | null =>
    at === undefined || faultAt === undefined ? null : Math.max(0, Math.round((at - faultAt) / 1000));
  return {
    time_to_fire_s: since(firedAt),
    time_to_detect_s: since(detectedAt),
    time_to_mitigate_s: since(mitigatedAt),
    time_to_recover_s: since(passedAt),
    wrong_actions: new Set(timeline.filter((e) => e.kind === 'wrong_action').map((e) => e.message)).size,
  };
}
