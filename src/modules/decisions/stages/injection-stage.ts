// prompt_injection: whether text the proposal carries tries to steer the assistant.
//
// Where a text came from decides both what is looked for and what a finding costs:
//   - the user's prompt is the principal: it may ask for anything in any words, so only
//     attack phrases and encoded or hidden instructions are looked for, and a finding
//     there asks for review, never denies;
//   - source documents are data: any sentence in them that tells an assistant what to
//     do is a finding (instruction-detector.ts), as are attack phrases;
//   - arguments are what will be executed: attack phrases and encoded instructions.
//     Words the user typed and the assistant carried into an argument (an e-mail that
//     quotes the prompt) count as the user's.
// Outcome: deny when documents or arguments of a side-effecting tool carry an attack,
// or when any of them carries an instruction that had to be decoded or was hidden
// (nobody encodes a plain request); review for everything else, and for invisible
// characters alone. Messages quote at most a short, redacted excerpt.
//
// Where the rules find nothing in the user's prompt or a document, the trained injection
// model (injection-model.ts, ADR 0031) reads it too, with the threshold chosen for that
// place. Its finding asks for review, never denies: it names no phrase a person could
// check, only a probability and the segment it came from.

import type { DecisionInput, DecisionStage, Reason } from '../decision-types.ts';
import { allow } from '../decision-types.ts';
import {
  detectInjection,
  type Finding,
  type InjectionDetectorOptions,
} from '../../safety/injection-detector.ts';
import {
  loadInjectionModel,
  type InjectionModel,
  type InjectionModelRole,
} from '../../safety/injection-model.ts';
import { normaliseText } from '../../safety/normalise-text.ts';
import { redactText } from '../../safety/redaction.ts';
import { collectStringFields, type StringFieldWalk } from '../../safety/string-fields.ts';
import { CONTRACT_TOOL_TRAITS, safetyResult, type SafetyStageDeps } from './safety-stage-support.ts';

type Trust = 'user' | 'model' | 'untrusted';

interface ScanTarget {
  path: string;
  text: string;
  trust: Trust;
  instructions: NonNullable<InjectionDetectorOptions['instructions']>;
  // Jailbreak templates and adversarial suffixes: looked for in what the user and the
  // documents say to the assistant, not in what the action carries.
  jailbreak: NonNullable<InjectionDetectorOptions['jailbreak']>;
  // The threshold the trained model reads this text with, or null to leave it to the rules.
  modelRole: InjectionModelRole | null;
}

export function createInjectionStage(deps: SafetyStageDeps = {}): DecisionStage {
  const tools = deps.tools ?? CONTRACT_TOOL_TRAITS;
  const model = deps.injectionModel === undefined ? loadInjectionModel() : deps.injectionModel;
  return {
    name: 'prompt_injection',
    evaluate(input) {
      const argumentsWalk = collectStringFields(input.arguments, 'arguments');
      const targets = scanTargets(input, argumentsWalk);
      const reasons: Reason[] = [];
      let deny = false;
      let prompt: string | undefined;
      const userWrote = (finding: Finding): boolean => {
        prompt ??= normaliseText(input.context.user_prompt ?? '').text;
        const phrase = finding.evidence.excerpt.replace(/\.\.\.$/, '');
        return phrase.length > 0 && prompt.includes(phrase);
      };
      for (const target of targets) {
        const findings = detectInjection(target.text, {
          ...deps.detector,
          instructions: target.instructions,
          jailbreak: target.jailbreak,
        });
        if (findings.length === 0) {
          const reason = modelReason(model, target);
          if (reason) reasons.push(reason);
          continue;
        }
        for (const finding of findings) {
          if (finding.family === 'hidden_characters' || target.trust !== 'untrusted') continue;
          if (target.path.startsWith('arguments') && finding.layer === 'plain' && userWrote(finding))
            continue;
          if (finding.layer !== 'plain' || tools.isSideEffecting(input.tool)) deny = true;
        }
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
    targets.push({
      path: 'context.user_prompt',
      text: context.user_prompt,
      trust: 'user',
      instructions: 'decoded',
      jailbreak: 'suffixes',
      modelRole: 'user_prompt',
    });
  (context.source_documents ?? []).forEach((doc, index) => {
    targets.push({
      path: `context.source_documents[${index}].content`,
      text: doc.content,
      trust: 'untrusted',
      instructions: 'all',
      jailbreak: 'templates',
      modelRole: 'source_document',
    });
  });
  if (context.model_rationale) {
    targets.push({
      path: 'context.model_rationale',
      text: context.model_rationale,
      trust: 'model',
      instructions: 'decoded',
      jailbreak: 'templates',
      modelRole: null,
    });
  }
  // The assistant wrote the arguments, but what they say is what gets executed: text
  // that steers the assistant is as dangerous there as in a document.
  for (const field of argumentsWalk.fields)
    targets.push({
      path: field.path,
      text: field.value,
      trust: 'untrusted',
      instructions: 'decoded',
      jailbreak: 'off',
      modelRole: null,
    });
  return targets;
}

// The trained model's reading of a text the rules found nothing in: a reason to review,
// or null.
function modelReason(model: InjectionModel | null, target: ScanTarget): Reason | null {
  if (!model || !target.modelRole) return null;
  const verdict = model.assess(target.text, target.modelRole);
  if (!verdict.flagged) return null;
  return {
    code: 'prompt_injection',
    message: `Reads as a jailbreak or prompt injection to the trained model (probability ${verdict.probability.toFixed(3)}) in ${target.path}.`,
    evidence: `${target.path}[${verdict.start}:${verdict.end}]`,
  };
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
  if (finding.family === 'jailbreak') {
    const what = finding.pattern === 'adversarial_suffix' ? 'an adversarial suffix' : 'a jailbreak prompt';
    return `Possible prompt injection (${what}) in ${path}: "${excerpt}".`;
  }
  if (finding.family === 'agent_instruction') {
    const where =
      finding.layer === 'plain' ? path : `${finding.layer.replace('decoded:', '')}-encoded text in ${path}`;
    return `An instruction addressed to the assistant (${finding.pattern.replace(/_/g, ' ')}) in ${where}: "${excerpt}".`;
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
