import { killSwitchesFor, type FlagProvider } from '../../../platform/flags/flag-provider.ts';
import type { DecisionStage } from '../decision-types.ts';

// kill-switch.all and kill-switch.<tool>: an operator's brake, checked on every proposal.
export function createKillSwitchStage(deps: { flags: Pick<FlagProvider, 'isEnabled'> }): DecisionStage {
  return {
    name: 'kill_switch',
    evaluate(input) {
      const context = { tenantId: input.tenantId };
      for (const flag of killSwitchesFor(input.tool)) {
        if (deps.flags.isEnabled(flag, context)) {
          return {
            outcome: 'deny',
            risk: 100,
            reasons: [{ code: 'kill_switch', message: `The kill switch ${flag} is on.` }],
          };
        }
      }
      return { outcome: 'allow', reasons: [] };
    },
  };
}
