// The content-safety decision stages. Each is independent of the others and of the tool
// defaults: it looks at one proposal and says how far it wants the decision raised.
//
//   injection   prompt_injection       deny when an attack phrase sits in untrusted text
//                                      (source documents, string arguments) of a
//                                      side-effecting tool; review otherwise, and for
//                                      hidden characters alone
//   provenance  untrusted_instruction  review when a recipient, URL host, amount, order id
//                                      or path came from a document rather than the user;
//                                      deny when those documents also carry an injection
//   secrets     secret_detected        deny when an outbound tool's arguments carry a secret
//
// Messages never contain a secret, and at most a short, redacted excerpt of injected text.

import type { DecisionInput, DecisionStage, Reason, StageResult } from '../decisions/decision-types.ts';
import { allow } from '../decisions/decision-types.ts';
import { percentDecode } from './encoded-payloads.ts';
import { detectInjection, type Finding, type InjectionDetectorOptions } from './injection-detector.ts';
import { checkProvenance, type ProvenanceFinding } from './provenance.ts';
import { redactText } from './redaction.ts';
import { detectSecrets } from './secret-detector.ts';
import { collectStringFields, type StringFieldWalk } from './string-fields.ts';

// What the stages need to know about a tool. The defaults follow the contract's tool
// table; wire the registry in to cover tools added later (unknown tools should answer
// true to both, so they are treated strictly).
export interface ToolTraits {
  isSideEffecting(tool: string): boolean;
  isOutbound(tool: string): boolean;
}

const SIDE_EFFECTING_TOOLS: ReadonlySet<string> = new Set([
  'email.send',
  'payments.refund',
  'files.delete',
  'http.fetch',
]);
const OUTBOUND_TOOLS: ReadonlySet<string> = new Set(['email.send', 'http.fetch']);

export const CONTRACT_TOOL_TRAITS: ToolTraits = Object.freeze({
  isSideEffecting: (tool: string) => SIDE_EFFECTING_TOOLS.has(tool),
  isOutbound: (tool: string) => OUTBOUND_TOOLS.has(tool),
});

export const SAFETY_RISK = Object.freeze({ deny: 60, review: 30 });

// A stage lists this many reasons at most, then says how many it left out.
const MAX_REASONS = 8;

export interface SafetyStageDeps {
  tools?: ToolTraits;
  detector?: InjectionDetectorOptions;
}

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
      return deny ? result('deny', reasons) : result('review', reasons);
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

export function createProvenanceStage(deps: SafetyStageDeps = {}): DecisionStage {
  return {
    name: 'provenance',
    evaluate(input) {
      const findings = checkProvenance(input.tool, input.arguments, input.context, {
        trustedEmailDomains: input.policy.email_allowed_domains,
      });
      if (findings.length === 0) return allow();
      const injected = (input.context.source_documents ?? []).some(
        (doc) => detectInjection(doc.content, deps.detector).length > 0,
      );
      const reasons = findings.map((finding) => provenanceReason(finding, injected));
      return injected ? result('deny', reasons) : result('review', reasons);
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
      if (reasons.length > 0) return result('deny', reasons);
      // Arguments too large to read in full cannot be cleared for leaving the tenant.
      if (walk.truncated) {
        return result('review', [
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

function result(outcome: 'review' | 'deny', reasons: Reason[]): StageResult {
  const listed = reasons.slice(0, MAX_REASONS);
  if (reasons.length > MAX_REASONS) {
    listed.push({
      code: listed[0]!.code,
      message: `${reasons.length - MAX_REASONS} further findings are not listed.`,
    });
  }
  return { outcome, reasons: listed, risk: SAFETY_RISK[outcome] };
}
