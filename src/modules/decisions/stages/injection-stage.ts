// prompt_injection: deny when an attack phrase sits in untrusted text (source documents,
// string arguments) of a side-effecting tool; review otherwise, and for hidden characters
// alone. Messages quote at most a short, redacted excerpt of the injected text.

import type { DecisionInput, DecisionStage, Reason } from '../decision-types.ts';
import { allow } from '../decision-types.ts';
import { detectInjection, type Finding } from '../../safety/injection-detector.ts';
import { redactText } from '../../safety/redaction.ts';
import { collectStringFields, type StringFieldWalk } from '../../safety/string-fields.ts';
import { CONTRACT_TOOL_TRAITS, safetyResult, type SafetyStageDeps } from './safety-stage-support.ts';

type Trust = 'user' | 'model' | 'untrusted';

interface ScanTarget {
  path: string;
  text: string;
  trust: Trust;
}

export function createInjectionStage(deps: SafetyStageDeps = {}): DecisionStage {
  const tools = deps.tools ?? CONTRACT_TOOL_TRAITS;
  return {
    name: 'prompt_injection',
    evaluate(input) {
      const argumentsWalk = collectStringFields(input.arguments, 'arguments');
      const targets = scanTargets(input, argumentsWalk);
      const reasons: Reason[] = [];
      let deny = false;
      for (const target of targets) {
        const findings = detectInjection(target.text, deps.detector);
        if (findings.length === 0) continue;
        const attack = findings.some((f) => f.family !== 'hidden_characters');
        if (attack && target.trust === 'untrusted' && tools.isSideEffecting(input.tool)) deny = true;
        reasons.push(...injectionReasons(target.path, findings));
      }
      if (argumentsWalk.truncated) {
        reasons.push({
          code: 'prompt_injection',
          message: 'The arguments nest too deeply or hold too many strings to inspect in full.',
          evidence: 'arguments',
        });
      }
      if (reasons.length === 0) return allow();
      return deny ? safetyResult('deny', reasons) : safetyResult('review', reasons);
    },
  };
}

function scanTargets(input: DecisionInput, argumentsWalk: StringFieldWalk): ScanTarget[] {
  const { context } = input;
  const targets: ScanTarget[] = [];
  if (context.user_prompt)
    targets.push({ path: 'context.user_prompt', text: context.user_prompt, trust: 'user' });
  (context.source_documents ?? []).forEach((doc, index) => {
    targets.push({
      path: `context.source_documents[${index}].content`,
      text: doc.content,
      trust: 'untrusted',
    });
  });
  if (context.model_rationale) {
    targets.push({ path: 'context.model_rationale', text: context.model_rationale, trust: 'model' });
  }
  // The assistant wrote the arguments, but what they say is what gets executed: text
  // that steers the assistant is as dangerous there as in a document.
  for (const field of argumentsWalk.fields)
    targets.push({ path: field.path, text: field.value, trust: 'untrusted' });
  return targets;
}

// One reason per family per field, pointing at the first span of that family.
function injectionReasons(path: string, findings: readonly Finding[]): Reason[] {
  const firstByFamily = new Map<string, Finding>();
  for (const finding of findings)
    if (!firstByFamily.has(finding.family)) firstByFamily.set(finding.family, finding);
  return [...firstByFamily.values()].map((finding) => ({
    code: 'prompt_injection',
    message: injectionMessage(path, finding),
    evidence: `${path}[${finding.evidence.start}:${finding.evidence.end}]`,
  }));
}

function injectionMessage(path: string, finding: Finding): string {
  const excerpt = safeExcerpt(finding.evidence.excerpt);
  if (finding.family === 'hidden_characters') {
    return `Invisible characters (${finding.pattern.replace(/_/g, ' ')}: ${excerpt}) in ${path}.`;
  }
  const where =
    finding.layer === 'plain' ? path : `${finding.layer.replace('decoded:', '')}-encoded text in ${path}`;
  return `Possible prompt injection (${finding.family.replace(/_/g, ' ')}) in ${where}: "${excerpt}".`;
}

// Excerpts are short already; this also masks any email, phone or secret inside them and
// keeps quotes and control characters out of the message.
function safeExcerpt(excerpt: string): string {
  return redactText(excerpt.slice(0, 48))
    .replace(/[\p{Cc}"]/gu, ' ')
    .trim();
}
