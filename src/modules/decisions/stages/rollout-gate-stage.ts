import { AUTO_APPROVE, type FlagProvider } from '../../../platform/flags/flag-provider.ts';
import type { DecisionStage } from '../decision-types.ts';

// The staged-rollout gate: where auto-approve is off for a tenant, nothing is executed
// without a human, whatever the other checks say.
export function createRolloutGateStage(deps: { flags: Pick<FlagProvider, 'isEnabled'> }): DecisionStage {
  return {
    name: 'rollout_gate',
    evaluate(input) {
      if (deps.flags.isEnabled(AUTO_APPROVE, { tenantId: input.tenantId }))
        return { outcome: 'allow', reasons: [] };
      return {
        outcome: 'review',
        risk: 0,
        reasons: [{ code: 'rollout_gate', message: 'Auto-approval is not rolled out to this tenant.' }],
      };
    },
  };
}
