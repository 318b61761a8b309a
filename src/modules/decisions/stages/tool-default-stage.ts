import { DEFAULT_RISK, type DecisionStage } from '../decision-types.ts';
import type { ToolRegistry } from '../../tools/tool-registry.ts';

const TIER_RISK = { low: 0, medium: 15, high: 30 } as const;

// The contract's tool table: each tool's own rule, given the tenant's policy.
export function createToolDefaultStage(deps: { tools: ToolRegistry }): DecisionStage {
  return {
    name: 'tool_default',
    evaluate(input) {
      const tool = deps.tools.get(input.tool);
      if (!tool)
        return {
          outcome: 'deny',
          reasons: [{ code: 'unknown_tool', message: 'The tool is not registered.' }],
        };
      const result = tool.defaultDecision(input.arguments, input.policy);
      const base = TIER_RISK[tool.riskTier];
      return {
        ...result,
        risk: (result.risk ?? DEFAULT_RISK[result.outcome]) + base,
      };
    },
  };
}
