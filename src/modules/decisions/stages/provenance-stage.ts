// untrusted_instruction: review when a recipient, URL host, amount, order id or path came
// from a document rather than the user; deny when those documents also carry an injection.

import type { Reason } from '../decision-types.ts';
import { allow, type DecisionStage } from '../decision-types.ts';
import { detectInjection } from '../../safety/injection-detector.ts';
import { checkProvenance, type ProvenanceFinding } from '../../safety/provenance.ts';
import { safetyResult, type SafetyStageDeps } from './safety-stage-support.ts';

export function createProvenanceStage(deps: SafetyStageDeps = {}): DecisionStage {
  return {
    name: 'provenance',
    evaluate(input) {
      const findings = checkProvenance(input.tool, input.arguments, input.context, {
        trustedEmailDomains: input.policy.email_allowed_domains,
      });
      if (findings.length === 0) return allow();
      const injected = (input.context.source_documents ?? []).some(
        (doc) => detectInjection(doc.content, { ...deps.detector, instructions: 'all' }).length > 0,
      );
      const reasons = findings.map((finding) => provenanceReason(finding, injected));
      return injected ? safetyResult('deny', reasons) : safetyResult('review', reasons);
    },
  };
}

const TRACED_VALUE: Readonly<Record<ProvenanceFinding['kind'], string>> = {
  recipient: 'The recipient',
  recipient_domain: "The recipient's domain",
  url_host: 'The URL host',
  amount: 'The amount',
  order_id: 'The order id',
  path: 'The path',
};

function provenanceReason(finding: ProvenanceFinding, injected: boolean): Reason {
  const what = `${TRACED_VALUE[finding.kind]} in arguments.${finding.argument}`;
  const where = `source document ${finding.documentIndex}`;
  const also = injected ? '; the source documents also contain a prompt-injection attempt' : '';
  return {
    code: 'untrusted_instruction',
    message: `${what} comes from ${where}, not from the user's prompt${also}.`,
    evidence: `context.source_documents[${finding.documentIndex}].content[${finding.start}:${finding.end}]`,
  };
}
