import type { Queryable } from '../../../platform/db.ts';
import { countRecentReports } from '../../reports/reports.repository.ts';
import type { DecisionStage } from '../decision-types.ts';

// Users' reports are a signal the model cannot forge: once a tool collects report_threshold
// reports inside the window, its later proposals need a human until an admin resets it.
export function createUserReportsStage(deps: { db: Queryable }): DecisionStage {
  return {
    name: 'user_reports',
    async evaluate(input) {
      const count = await countRecentReports(
        deps.db,
        input.tenantId,
        input.tool,
        input.policy.report_window_minutes,
      );
      if (count < input.policy.report_threshold) return { outcome: 'allow', reasons: [] };
      return {
        outcome: 'review',
        risk: 25,
        reasons: [
          {
            code: 'user_reports',
            message: `${count} user reports on ${input.tool} in the last ${input.policy.report_window_minutes} minutes (threshold ${input.policy.report_threshold}).`,
          },
        ],
      };
    },
  };
}
