// secret_detected: deny when an outbound tool's arguments carry a secret. Messages name the
// kind of secret and never repeat any of its value.

import type { DecisionStage, Reason } from '../decision-types.ts';
import { allow } from '../decision-types.ts';
import { percentDecode } from '../../safety/encoded-payloads.ts';
import { detectSecrets } from '../../safety/secret-detector.ts';
import { collectStringFields } from '../../safety/string-fields.ts';
import { CONTRACT_TOOL_TRAITS, safetyResult, type SafetyStageDeps } from './safety-stage-support.ts';

export function createSecretStage(deps: SafetyStageDeps = {}): DecisionStage {
  const tools = deps.tools ?? CONTRACT_TOOL_TRAITS;
  return {
    name: 'secret_detection',
    evaluate(input) {
      if (!tools.isOutbound(input.tool)) return allow();
      const walk = collectStringFields(input.arguments, 'arguments');
      const reasons: Reason[] = walk.fields.flatMap((field) => {
        const kinds = secretKindsIn(field.value);
        if (kinds.length === 0) return [];
        return [
          {
            code: 'secret_detected',
            // The kind names what was found; nothing of the value itself is repeated.
            message: `${field.path} contains what looks like a secret (${kinds.join(', ')}); outbound tools may not carry secrets.`,
            evidence: field.path,
          },
        ];
      });
      if (reasons.length > 0) return safetyResult('deny', reasons);
      // Arguments too large to read in full cannot be cleared for leaving the tenant.
      if (walk.truncated) {
        return safetyResult('review', [
          {
            code: 'secret_detected',
            message: 'The arguments nest too deeply or hold too many strings to check for secrets in full.',
            evidence: 'arguments',
          },
        ]);
      }
      return allow();
    },
  };
}

function secretKindsIn(value: string): string[] {
  // A secret percent-encoded into a URL is still a secret.
  const readings = value.includes('%') ? [value, percentDecode(value)] : [value];
  const kinds = readings.flatMap((text) => detectSecrets(text).map((f) => f.kind.replace(/_/g, ' ')));
  return [...new Set(kinds)];
}
