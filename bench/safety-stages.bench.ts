// Micro-benchmark of the content-safety stages on one typical proposal: an email reply
// of about 2 KiB, a realistic user prompt and two source documents, about 3 KB in all.
// A JSON.stringify of the same proposal runs in the same loop as a baseline, so the
// ratio says something even on a noisy machine.
//
//   node bench/safety-stages.bench.ts
//
// Prints one JSON document. Target (issue 11): p50 of the three stages together <= 1 ms.
//
// The moderation classifier runs in the moderation service, not in these stages, but on
// the same proposal: its text (the prompt and every argument string, as the moderation
// stage sends it) is classified by the lexicon alone and by the lexicon with the trained
// model (ADR 0030), in the same loop, so the model's cost is read beside the stages'.
// Likewise the three stages run once more without the trained injection model (ADR 0031),
// so its share of the stages' time is read from the same run.

import type { DecisionInput, DecisionStage } from '../src/modules/decisions/decision-types.ts';
import { createInjectionStage } from '../src/modules/decisions/stages/injection-stage.ts';
import { createProvenanceStage } from '../src/modules/decisions/stages/provenance-stage.ts';
import { createSecretStage } from '../src/modules/decisions/stages/secret-stage.ts';
import { moderationText } from '../src/modules/decisions/stages/moderation-stage.ts';
import { createModerationClassifier } from '../src/modules/moderation/moderation-classifier.ts';

const WARM_UP = 500;
const ITERATIONS = 5000;
const TARGET_P50_MS = 1;

const body = [
  'Hi Priya,',
  '',
  'Thanks for sending over the renewal quote. I went through it with finance this morning and we are happy with the',
  'per-seat price for the first year. Two things before we sign:',
  '',
  '1. The quote lists 140 seats, but our headcount plan for Q3 is 155. Could you add the extra 15 at the same rate,',
  '   prorated from July? If that needs a separate order form, that is fine, just send it along with the main one.',
  '2. The support tier says "business hours". Our EU office starts at 08:00 CET, which is before your US team comes',
  '   online. Is the extended-hours add-on still available, and what would it cost for the full term?',
  '',
  'On the security questionnaire: our team filled in sections A to D; section E (subprocessors) is still with legal and',
  'should be done by Friday. The SOC 2 report you shared answered most of our questions.',
  '',
  'If you can get a revised quote to us by Thursday, we can have it signed before the end of the month. Happy to jump on',
  'a call on Wednesday afternoon if that is easier; I am free from 2pm to 4pm UK time.',
  '',
  'One more thing: please send the signed order form to orders@vendor.test once it is ready, and copy me.',
  '',
  'Best regards,',
  'Alice Chen',
  'Head of Operations, Acme Ltd',
  'https://www.acme.test | +44 20 7946 0958',
].join('\n');

const proposal: DecisionInput = {
  tenantId: 't-bench',
  tool: 'email.send',
  arguments: { to: 'priya@vendor.test', subject: 'Re: Renewal quote for 2025', body },
  userId: 'u-alice',
  context: {
    conversation_id: 'c-42',
    user_prompt:
      "Reply to Priya's email about the renewal quote. Say we accept the per-seat price, ask her to add 15 seats " +
      'from July, ask about the extended-hours support add-on, and tell her section E of the questionnaire will be done ' +
      'by Friday. Offer a call on Wednesday afternoon.',
    model_rationale: 'The user asked for a reply to the renewal email with four specific points.',
    source_documents: [
      {
        source: 'mail:priya@vendor.test',
        content:
          'Hi Alice, please find attached the renewal quote for 2025: 140 seats at the current per-seat price, business ' +
          'hours support included. The security questionnaire is also attached; we would need sections A to E back before ' +
          'we can finalise. Our SOC 2 Type II report is available on request. Let me know if you have any questions or ' +
          'if anything needs adjusting. Kind regards, Priya Shah, Account Manager, Vendor Inc. priya@vendor.test',
      },
      {
        source: 'file:renewal-quote-2025.pdf',
        content:
          'Renewal quote Q-2025-0142. Customer: Acme Ltd. Term: 12 months from 1 June 2025. Seats: 140. Support tier: ' +
          'Business hours (09:00-17:00 US Eastern). Extended hours add-on: available on request. Payment terms: net 30. ' +
          'This quote is valid for 30 days from the date of issue. Prices exclude VAT. Signed order forms can be returned ' +
          'to orders@vendor.test or through the customer portal.',
      },
    ],
  },
  policy: {
    email_allowed_domains: ['acme.test', 'vendor.test'],
    fetch_allowed_hosts: [],
    refund_review_above_cents: 5000,
    rate_limit_per_user_per_minute: 60,
    report_threshold: 3,
    report_window_minutes: 1440,
  },
};

const stages: DecisionStage[] = [createInjectionStage(), createProvenanceStage(), createSecretStage()];
const stagesWithoutModel: DecisionStage[] = [
  createInjectionStage({ injectionModel: null }),
  createProvenanceStage(),
  createSecretStage(),
];
const lexiconOnly = createModerationClassifier({ model: null });
const withModel = createModerationClassifier();
const textToModerate = moderationText(proposal);

// Returns each stage's outcome, so the report shows what was being measured. (This reply
// is reviewed by provenance: the recipient's address comes from Priya's email, not from
// the prompt, which is the contract's rule working as intended.)
function runStages(pipeline: readonly DecisionStage[] = stages): string[] {
  return pipeline.map((stage) => {
    const result = stage.evaluate(proposal);
    if (result instanceof Promise)
      throw new Error('the safety stages are synchronous; this benchmark assumes so');
    return `${stage.name}:${result.outcome}`;
  });
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

function summarise(samples: number[]): { p50_ms: number; p99_ms: number; mean_ms: number } {
  const sorted = [...samples].sort((a, b) => a - b);
  const round = (ms: number): number => Math.round(ms * 1000) / 1000;
  return {
    p50_ms: round(percentile(sorted, 50)),
    p99_ms: round(percentile(sorted, 99)),
    mean_ms: round(samples.reduce((sum, s) => sum + s, 0) / samples.length),
  };
}

function main(): void {
  for (let i = 0; i < WARM_UP; i++) {
    runStages();
    runStages(stagesWithoutModel);
    JSON.stringify(proposal);
    lexiconOnly.classify(textToModerate);
    withModel.classify(textToModerate);
  }
  const stageSamples: number[] = [];
  const noModelSamples: number[] = [];
  const baselineSamples: number[] = [];
  const lexiconSamples: number[] = [];
  const modelSamples: number[] = [];
  let sink = 0;
  for (let i = 0; i < ITERATIONS; i++) {
    let started = performance.now();
    runStages();
    stageSamples.push(performance.now() - started);
    started = performance.now();
    runStages(stagesWithoutModel);
    noModelSamples.push(performance.now() - started);
    started = performance.now();
    sink += JSON.stringify(proposal).length;
    baselineSamples.push(performance.now() - started);
    started = performance.now();
    sink += lexiconOnly.classify(textToModerate).flagged ? 1 : 0;
    lexiconSamples.push(performance.now() - started);
    started = performance.now();
    sink += withModel.classify(textToModerate).flagged ? 1 : 0;
    modelSamples.push(performance.now() - started);
  }
  const stagesSummary = summarise(stageSamples);
  const baseline = summarise(baselineSamples);
  console.log(
    JSON.stringify(
      {
        benchmark: 'safety-stages',
        node: process.version,
        iterations: ITERATIONS,
        warm_up: WARM_UP,
        proposal_bytes: Buffer.byteLength(JSON.stringify(proposal)),
        outcomes: runStages(),
        stages: stagesSummary,
        stages_without_injection_model: summarise(noModelSamples),
        baseline_json_stringify: baseline,
        ratio_p50: Math.round((stagesSummary.p50_ms / Math.max(baseline.p50_ms, 0.001)) * 10) / 10,
        moderation_text_bytes: Buffer.byteLength(textToModerate),
        moderation_lexicon: summarise(lexiconSamples),
        moderation_lexicon_and_model: summarise(modelSamples),
        target_p50_ms: TARGET_P50_MS,
        meets_target: stagesSummary.p50_ms <= TARGET_P50_MS,
        // Keeps the baseline's work observable so it cannot be optimised away.
        checksum: sink % 997,
      },
      null,
      2,
    ),
  );
}

main();
