import { CliUsageError } from './cli-args.ts';
import { ok, type Command } from './command.ts';

// `alerts`: the alert inbox (what Alertmanager, or the drill runner's own evaluation, paged),
// for a learner without Grafana. The same list as GET /v1/alerts.
export const alertsCommands: Record<string, Command> = {
  alerts: {
    usage: '[--state firing|resolved] [--limit 1-100] [--cursor <next_cursor>]',
    options: ['state', 'limit', 'cursor'],
    run: async (c, args) => {
      const state = args.options.state;
      if (state !== undefined && state !== 'firing' && state !== 'resolved') {
        throw new CliUsageError('--state must be firing or resolved');
      }
      const limit = args.options.limit === undefined ? 20 : Number(args.options.limit);
      if (!Number.isInteger(limit) || limit < 1 || limit > 100) {
        throw new CliUsageError('--limit must be an integer from 1 to 100');
      }
      const page = await c.alertInbox.list({ state, limit, cursor: args.options.cursor });
      const lines = page.items.flatMap((a) => [
        `${a.state.toUpperCase().padEnd(8)} ${(a.severity ?? '-').padEnd(6)} ${a.name}  since ${a.since}${a.resolved_at ? `  resolved ${a.resolved_at}` : ''}`,
        ...(a.summary ? [`         ${a.summary}`] : []),
        ...(a.runbook_url ? [`         runbook: ${a.runbook_url}`] : []),
      ]);
      const human = page.items.length
        ? [...lines, ...(page.next_cursor ? [`next page: --cursor ${page.next_cursor}`] : [])].join('\n')
        : `No ${state ?? ''}${state ? ' ' : ''}alerts in the inbox.`;
      return ok(page, human);
    },
  },
};
