import type { Container } from '../container.ts';
import type { DrillScore } from '../modules/drills/drills.repository.ts';
import type { DrillSummary } from '../modules/drills/drills.service.ts';
import { buildDrills } from '../wiring/drills.ts';
import { CliUsageError } from './cli-args.ts';
import { ok, type Command } from './command.ts';
import { createRunnerControl } from './drill-process.ts';

// `cli drill list|start|status|check|stop`: on-call practice (README "Practise on-call",
// docs/adr/0021-drills.md). Each command is one call to the drills service.

const drillsOf = (c: Container) => buildDrills(c, { runner: createRunnerControl() }).drills;

export const drillCommands: Record<string, Command> = {
  'drill list': {
    // Usable while Redis is down: that may be the drill.
    needs: ['postgres'],
    usage: '',
    run: async (c) => {
      const scenarios = drillsOf(c).list();
      const human = scenarios
        .map(
          (s) =>
            `${s.name}\n  symptom:  ${s.symptom}\n  alert:    ${s.alert}, fires within ${s.fire_within_s} s\n  runbook:  ${s.runbook_url}`,
        )
        .join('\n\n');
      return ok({ scenarios }, `${human}\n\nStart one with: npm run --silent cli -- drill start <scenario>`);
    },
  },

  'drill start': {
    usage: '<scenario>',
    run: async (c, args) => {
      const name = args.positionals[2];
      if (!name) throw new CliUsageError('drill start needs a scenario (see drill list)');
      const drills = drillsOf(c);
      const { drill, timeline } = await drills.start(name);
      const scenario = drills.list().find((s) => s.name === drill.scenario)!;
      return ok(
        { drill, timeline },
        [
          `Drill ${drill.scenario} started (drill ${drill.id}, tenant ${drill.tenant}); the fault is in place.`,
          `Background traffic: ${c.config.drill.trafficPerSecond} requests/s against ${c.config.drill.targetUrl}.`,
          `It ends by itself at ${drill.deadline_at} if nobody stops it.`,
          '',
          `You are on call. The first sign: ${scenario.symptom}`,
          'Watch what pages with `drill status`; once you have mitigated, `drill check`; `drill stop` ends it.',
        ].join('\n'),
      );
    },
  },

  'drill status': {
    // Usable while Redis is down: that may be the drill.
    needs: ['postgres'],
    usage: '',
    run: async (c) => {
      const status = await drillsOf(c).status();
      const alerts = status.alerts_error
        ? [`Alerts: unknown (${status.alerts_error})`]
        : status.alerts.length
          ? status.alerts.map(
              (a) =>
                `  ${a.state === 'firing' ? 'FIRING ' : 'pending'} ${a.name}${a.severity ? ` (${a.severity})` : ''} since ${a.since}${a.summary ? `\n          ${a.summary}` : ''}${a.runbook_url ? `\n          runbook: ${a.runbook_url}` : ''}`,
            )
          : ['  No alert is pending or firing.'];
      return ok(
        status,
        [drillLine(status.drill), runnerLine(status.drill), '', 'Alerts:', ...alerts].join('\n'),
      );
    },
  },

  'drill check': {
    // Usable while Redis is down: that may be the drill.
    needs: ['postgres'],
    usage: '',
    run: async (c) => {
      const result = await drillsOf(c).check();
      const lines = [
        result.passed ? 'Recovered: every check passed.' : 'Not recovered yet:',
        ...result.checks.map(
          (check) => `  ${check.passed ? 'pass' : 'FAIL'}  ${check.name}: ${check.detail}`,
        ),
        ...(result.score ? ['', ...scoreLines(result.score)] : []),
        ...(result.postmortem
          ? [`Postmortem draft: ${result.postmortem}`, 'End the drill with `drill stop`.']
          : []),
      ];
      return { output: result, human: lines.join('\n'), exitCode: result.passed ? 0 : 1 };
    },
  },

  'drill stop': {
    // Usable while Redis is down: that may be the drill.
    needs: ['postgres'],
    usage: '',
    run: async (c) => {
      const result = await drillsOf(c).stop();
      if (!result.drill) {
        return ok(
          result,
          `No drill was running.${result.flags_turned_off.length ? ` Turned off ${result.flags_turned_off.join(', ')}.` : ' Nothing to clean up.'}`,
        );
      }
      return ok(
        result,
        [
          `Drill ${result.drill.scenario} stopped; clean state restored${result.runner_killed ? ' (runner ended)' : ''}.`,
          ...(result.flags_turned_off.length ? [`Turned off: ${result.flags_turned_off.join(', ')}.`] : []),
          ...(result.score ? ['', ...scoreLines(result.score)] : []),
          ...(result.postmortem ? [`Postmortem draft: ${result.postmortem}`] : []),
        ].join('\n'),
      );
    },
  },
};

const drillLine = (d: DrillSummary): string =>
  `Drill ${d.scenario} (${d.state}) since ${d.started_at}; expect ${d.expected_alert}; runbook ${d.runbook_url}`;

const runnerLine = (d: DrillSummary): string =>
  d.runner.alive
    ? `Runner: pid ${d.runner.pid}, last heartbeat ${d.runner.last_heartbeat_at}.`
    : `Runner: NOT running (pid ${d.runner.pid ?? 'none'}): no traffic and no alert evaluation; \`drill stop\` restores a clean state.`;

function scoreLines(score: DrillScore): string[] {
  const s = (value: number | null) => (value === null ? 'not reached' : `${value} s`);
  return [
    'Score:',
    `  time to fire      ${s(score.time_to_fire_s)}`,
    `  time to detect    ${s(score.time_to_detect_s)}`,
    `  time to mitigate  ${s(score.time_to_mitigate_s)}`,
    `  time to recover   ${s(score.time_to_recover_s)}`,
    `  wrong actions     ${score.wrong_actions}`,
  ];
}
