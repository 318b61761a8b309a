// The seams of the on-call drills (issue 10). Three parts meet here and are built apart:
//  - the drill tool (CLI `drill list|start|status|check|stop`, the runner process, the timeline,
//    the score and the postmortem draft), which owns a drill's life;
//  - the scenarios (src/modules/drills/scenarios/*.ts), each a real fault with the operator
//    action that mitigates it and a check of that action from the system's state;
//  - the alert sources: Prometheus's own alert API when PROMETHEUS_URL is set, otherwise the
//    drill runner's evaluation of the shipped rule files against the service's /metrics.
import type { Pool } from 'pg';
import type { Redis } from 'ioredis';
import type { Logger } from 'pino';
import type { Config } from '../../platform/config.ts';
import type { SliReading } from '../alerts/sli-readings.ts';

/** An alert as a pager shows it: from Prometheus, or from the local evaluation of the same rules. */
export interface FiringAlert {
  name: string; // alertname
  state: 'pending' | 'firing';
  severity: string | null;
  since: string; // ISO 8601: when the rule's condition first held (activeAt)
  summary: string | null;
  runbook_url: string | null; // absolute (ALERT_RUNBOOK_BASE_URL + runbooks/<Alert>.md)
  labels: Record<string, string>;
}

export interface AlertSource {
  readonly kind: 'prometheus' | 'local';
  /** Alerts pending or firing now. Throws AppError dependency_unavailable when unreachable. */
  alerts(): Promise<FiringAlert[]>;
  /** Each SLI over the last 5 minutes beside its error budget. Throws like alerts(). */
  slis(): Promise<SliReading[]>;
}

/** One line of a drill's timeline; kinds are lower-case dotted words (drill.started, fault.injected, alert.firing, detected, mitigation.*, check.failed, check.passed, drill.stopped, wrong_action). */
export interface TimelineEntry {
  at: string; // ISO 8601
  kind: string;
  message: string;
  data?: Record<string, unknown>;
}

/** A mitigation entry: mitigation.observed, or a scenario's own (mitigation.blocker_terminated). */
export const isMitigation = (entry: Pick<TimelineEntry, 'kind'>): boolean =>
  entry.kind.startsWith('mitigation.');

/** What a scenario's fault and checks may touch. Built by the drill tool for each call. */
export interface DrillContext {
  readonly drillId: string;
  readonly scenario: string;
  readonly startedAt: Date;
  /** The configuration the drill tool loaded (the same variables the service under drill reads). */
  readonly config: Config;
  /** Postgres, the system of record (the CLI's own pool). */
  readonly pool: Pool;
  readonly redis: Redis;
  readonly databaseUrl: string;
  readonly redisUrl: string;
  /** The Airlock API under drill (DRILL_TARGET_URL, default http://127.0.0.1:$PORT); 127.0.0.1 only. */
  readonly targetUrl: string;
  /** The drill's own tenant, used by the background traffic; faults must not touch other tenants' data. */
  readonly tenant: { slug: string; id: string };
  /** Flags as an operator sets them (same path as `cli flags set`, audited). */
  setFlag(name: string, on: boolean, tenant?: string): Promise<void>;
  isFlagOn(name: string, tenant?: string): Promise<boolean>;
  /** Appends to the drill's timeline (persisted in Postgres, so it survives a crashed runner). */
  record(kind: string, message: string, data?: Record<string, unknown>): Promise<void>;
  /** The drill's timeline so far, oldest first: e.g. what the runner saw happen to the fault. */
  timeline(): Promise<TimelineEntry[]>;
  readonly log: Logger;
  /** Aborted when the drill stops; long-running fault loops must end on it. */
  readonly signal: AbortSignal;
}

export interface CheckResult {
  name: string;
  passed: boolean;
  detail: string;
}

export interface DrillScenario {
  readonly name: string; // kebab-case, also the chaos flag suffix where one is used: chaos.<name>
  readonly symptom: string; // what the learner would notice first
  readonly alert: string; // the alert that must fire, e.g. AirlockDbPoolSaturated
  readonly fireWithinSeconds: number; // under the drill's background traffic, with the shipped rules
  readonly runbook: string; // runbooks/<file>.md, relative to the repo root
  readonly mitigation: string; // one line: the operator action the runbook prescribes
  /**
   * Injects the fault. Runs inside the drill runner (a long-lived process that `drill start`
   * spawns), so it may hold resources (a rogue transaction, leaked connections) until cleanup
   * or until the mitigation removes them. Must return once the fault is in place.
   */
  inject(ctx: DrillContext): Promise<void>;
  /** The scenario's own mitigation, verified from the system's state (not from the chaos flag). */
  verifyMitigated(ctx: DrillContext): Promise<CheckResult[]>;
  /**
   * The operator's mitigating action as the system's state shows it (one line saying what
   * was seen), or null while it is not done. Polled by the runner and by `drill check`; the
   * first sighting is the time to mitigate. A scenario that records its own mitigation.*
   * entry the moment it happens (db-slow-queries) needs none.
   */
  mitigationObserved?(ctx: DrillContext): Promise<string | null>;
  /**
   * A chaos flag that stands for a bad build rather than the outside world: turning it off
   * is the runbook's rollback once the mitigation has been observed, and a wrong action
   * before (it would hide the fault instead of mitigating it).
   */
  readonly rollbackFlag?: string;
  /** Operator actions that made things worse or only hid the fault (e.g. turning the chaos flag off). */
  wrongActions?(ctx: DrillContext): Promise<string[]>;
  /** Restores a clean state. Idempotent; must work from a fresh process after the runner crashed. */
  cleanup(ctx: DrillContext): Promise<void>;
}
