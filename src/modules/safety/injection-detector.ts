// Prompt-injection detector: pure, synchronous, linear in its input.
//
// How it reads a text:
//   1. Hidden characters (tag block, zero-width, bidi controls, variation-selector runs) are
//      reported on their own; their presence is the finding.
//   2. The text is folded (NFKC, marks stripped, lower case, look-alikes, whitespace runs
//      collapsed, invisible characters dropped) and every pattern in injection-patterns.ts
//      is run over it. Spans are mapped back to the original string.
//   3. Tag characters and variation-selector runs are decoded to text and that text is
//      scanned as layer 'hidden'.
//   4. base64, hex, percent-encoded, HTML-entity and \u-escaped runs are decoded and
//      rescanned, at most `maxDepth` levels deep, within one decode budget for the whole
//      call.
//   5. With `instructions` on, sentences that tell an assistant what to do, whatever their
//      wording, are reported as family 'agent_instruction' (instruction-detector.ts):
//      everywhere for text that should be data ('all': documents, fetched pages), only in
//      decoded and hidden text for text that may legitimately instruct ('decoded': the
//      arguments, the user's prompt). Nobody encodes a plain request to an assistant.
//   6. With `jailbreak` on, the whole text is scored for stacked jailbreak moves and for
//      adversarial suffixes (jailbreak-detector.ts), reported as family 'jailbreak'.
//
// Spans: `start`/`end` are UTF-16 offsets into the string passed in. For a finding inside
// decoded or hidden text they cover the whole encoded run (or tag run) in the outermost
// text, because a decoded offset means nothing to the caller. `excerpt` is taken from the
// folded text that matched (at most EXCERPT_LENGTH characters), so it is lower case.
//
// Known limits (read these before trusting a clean result):
//   - It matches English phrasings. Other languages, paraphrase, synonyms it does not list
//     and instructions spread over several sentences get through.
//   - Obfuscation it does not undo: leetspeak ("1gn0re"), letters spaced out
//     ("i g n o r e"), words split by punctuation, homoglyphs beyond its short Cyrillic and
//     Greek list, ROT13 and other ciphers, encodings other than base64/hex/percent, and
//     payloads in images or attachments.
//   - Only the first `maxLength` characters of a field are read (1 MiB by default; the API
//     caps request bodies at 1 MiB anyway).
//   - The decode budget is finite: a text with more than `maxDecodes` encoded-looking runs
//     ahead of the real payload hides it. An invisible character inside an encoded run
//     splits the run (the invisible character itself is still reported).
//   - A base64 run longer than the decode budget is decoded only up to the budget.
//   - It cannot know intent. Quoting an attack ("the email said 'ignore previous
//     instructions'") matches; a polite, novel instruction to exfiltrate does not. The
//     provenance check (provenance.ts) covers the second case for recipients, URLs and
//     amounts; decision stages weigh where a match was found.
//   - Benign text does trip it: a real email that says "please disregard my previous
//     instructions" is, to this detector, an instruction override.
//   - More than `maxCandidatesPerPattern` regex matches of one pattern in one text are not
//     examined one by one; the flood is reported as a finding of that pattern instead.
//
// Cost: linear. Each pattern names gate words, and one combined regex decides which
// patterns can match at all, so ordinary text pays for a handful of them. On a 2-core
// test machine 1 MiB of adversarial near-matches takes roughly 20 to 60 ms of CPU, the
// upper end for text that is mostly non-ASCII (folded code point by code point).

import { findEncodedPayloads, type DecodeBudget, type EncodingLayer } from './encoded-payloads.ts';
import {
  decodeTagRun,
  decodeVariationSelectorRun,
  findHiddenCharacters,
  type HiddenRun,
} from './hidden-characters.ts';
import {
  GATE_TOKENS,
  INJECTION_PATTERNS,
  type InjectionPattern,
  type PatternFamily,
} from './injection-patterns.ts';
import { detectInstructions } from './instruction-detector.ts';
import { detectJailbreak } from './jailbreak-detector.ts';
import { normaliseText, originSpan } from './normalise-text.ts';

export type InjectionFamily = PatternFamily | 'hidden_characters' | 'agent_instruction' | 'jailbreak';

// 'plain': the text as given. 'decoded:*': text recovered from an encoded run. 'hidden':
// text recovered from tag characters or variation selectors.
export type FindingLayer = 'plain' | EncodingLayer | 'hidden';

export interface Finding {
  family: InjectionFamily;
  // The pattern id, or for hidden characters their kind ('tag', 'zero_width', ...).
  pattern: string;
  evidence: { start: number; end: number; excerpt: string };
  layer: FindingLayer;
}

export interface InjectionDetectorOptions {
  // Characters read per text; the rest is ignored. Default 1 MiB.
  maxLength?: number;
  // Scanning stops once this many findings are collected. Default 64.
  maxFindings?: number;
  // Decode attempts per call, across all layers. Default 32.
  maxDecodes?: number;
  // Decoded characters per call, across all layers. Default 64 Ki.
  maxDecodedChars?: number;
  // How many encodings deep to look: 2 finds base64 inside percent-encoding. Default 2.
  maxDepth?: number;
  // Regex matches one pattern may produce in one text before the flood itself becomes
  // the finding. Default 1000.
  maxCandidatesPerPattern?: number;
  // Where to look for instructions addressed to the assistant (see step 5 above).
  // Default 'off'.
  instructions?: 'all' | 'decoded' | 'off';
  // Look for jailbreak templates, and with 'suffixes' adversarial suffixes too (step 6).
  // Default 'off'.
  jailbreak?: 'templates' | 'suffixes' | 'off';
}

export const DEFAULT_MAX_SCAN_LENGTH = 1024 * 1024;
const EXCERPT_LENGTH = 48;
const FLOOD_EXCERPT = 'flood of near-matches';

interface ScanState {
  findings: Finding[];
  seen: Set<string>;
  budget: DecodeBudget;
  maxFindings: number;
  maxDepth: number;
  maxCandidatesPerPattern: number;
  instructions: 'all' | 'decoded' | 'off';
}

type SpanMapper = (start: number, end: number) => { start: number; end: number };

export function detectInjection(text: string, opts: InjectionDetectorOptions = {}): Finding[] {
  const maxLength = opts.maxLength ?? DEFAULT_MAX_SCAN_LENGTH;
  const state: ScanState = {
    findings: [],
    seen: new Set(),
    budget: { decodes: opts.maxDecodes ?? 32, chars: opts.maxDecodedChars ?? 64 * 1024 },
    maxFindings: opts.maxFindings ?? 64,
    maxDepth: opts.maxDepth ?? 2,
    maxCandidatesPerPattern: opts.maxCandidatesPerPattern ?? 1000,
    instructions: opts.instructions ?? 'off',
  };
  const scanned = text.length > maxLength ? text.slice(0, maxLength) : text;
  scanLayer(scanned, 'plain', 0, (start, end) => ({ start, end }), state);
  if (opts.jailbreak && opts.jailbreak !== 'off') {
    for (const found of detectJailbreak(scanned, { suffixes: opts.jailbreak === 'suffixes' })) {
      addFinding(state, {
        family: 'jailbreak',
        pattern: found.kind,
        evidence: { start: found.start, end: found.end, excerpt: found.excerpt },
        layer: 'plain',
      });
    }
  }
  return state.findings;
}

function scanLayer(
  text: string,
  layer: FindingLayer,
  depth: number,
  toOuter: SpanMapper,
  state: ScanState,
): void {
  const hidden = findHiddenCharacters(text, state.maxFindings);
  for (const run of hidden) {
    addFinding(state, {
      family: 'hidden_characters',
      pattern: run.kind,
      evidence: { ...toOuter(run.start, run.end), excerpt: describeHiddenRun(text, run) },
      layer,
    });
  }
  scanPatterns(text, layer, toOuter, state);
  if (state.instructions === 'all' || (state.instructions === 'decoded' && layer !== 'plain')) {
    scanInstructions(text, layer, toOuter, state);
  }
  if (depth >= state.maxDepth) return;
  scanHiddenMessages(text, hidden, depth, toOuter, state);
  scanEncodedPayloads(text, depth, toOuter, state);
}

function scanPatterns(text: string, layer: FindingLayer, toOuter: SpanMapper, state: ScanState): void {
  const folded = normaliseText(text);
  // match() with a global regex returns plain strings, far cheaper than match objects.
  const present = new Set(folded.text.match(GATE_TOKENS) ?? []);
  const report = (candidate: InjectionPattern, start: number, end: number, excerpt: string): void => {
    const original = originSpan(folded, start, end);
    addFinding(state, {
      family: candidate.family,
      pattern: candidate.id,
      evidence: { ...toOuter(original.start, original.end), excerpt: excerptOf(excerpt) },
      layer,
    });
  };
  for (const candidate of INJECTION_PATTERNS) {
    if (isFull(state)) return;
    if (!isGateOpen(candidate, present, folded.text)) continue;
    let examined = 0;
    for (const match of folded.text.matchAll(candidate.regex)) {
      if (isFull(state)) return;
      examined += 1;
      if (examined > state.maxCandidatesPerPattern) {
        // Thousands of near-misses of one attack phrase are not prose: the flood itself
        // is the finding, and reading on would let the attacker choose the cost.
        report(candidate, match.index, match.index + match[0].length, FLOOD_EXCERPT);
        break;
      }
      const phrase = confirmPhrase(candidate, match, folded.text);
      if (phrase) report(candidate, phrase.start, phrase.end, phrase.text);
    }
  }
}

function scanInstructions(text: string, layer: FindingLayer, toOuter: SpanMapper, state: ScanState): void {
  for (const found of detectInstructions(text, { maxFindings: state.maxFindings - state.findings.length })) {
    addFinding(state, {
      family: 'agent_instruction',
      pattern: found.kind,
      evidence: { ...toOuter(found.start, found.end), excerpt: found.excerpt },
      layer,
    });
  }
}

// Applies a pattern's `before` and `accept` checks; returns the span to report, or null.
function confirmPhrase(
  candidate: InjectionPattern,
  match: RegExpMatchArray,
  text: string,
): { start: number; end: number; text: string } | null {
  let start = match.index!;
  const end = start + match[0].length;
  if (candidate.before) {
    const windowStart = Math.max(0, start - candidate.before.window);
    const lead = candidate.before.regex.exec(text.slice(windowStart, start));
    if (!lead) return null;
    start = windowStart + lead.index;
  }
  const phrase = start === match.index ? match[0] : text.slice(start, end);
  if (candidate.accept && !candidate.accept(phrase, text, end)) return null;
  return { start, end, text: phrase };
}

function isGateOpen(candidate: InjectionPattern, present: ReadonlySet<string>, text: string): boolean {
  return (
    candidate.gate.tokens.some((token) => present.has(token)) ||
    candidate.gate.symbols.some((symbol) => text.includes(symbol))
  );
}

function scanHiddenMessages(
  text: string,
  hidden: readonly HiddenRun[],
  depth: number,
  toOuter: SpanMapper,
  state: ScanState,
): void {
  for (const run of hidden) {
    if (isFull(state) || state.budget.decodes <= 0) return;
    if (run.kind !== 'tag' && run.kind !== 'variation_selector_run') continue;
    state.budget.decodes -= 1;
    const maxChars = Math.max(0, state.budget.chars);
    const message =
      run.kind === 'tag'
        ? decodeTagRun(text, run.start, run.end, maxChars)
        : decodeVariationSelectorRun(text, run.start, run.end, maxChars);
    if (!message) continue;
    state.budget.chars -= message.length;
    const outer = toOuter(run.start, run.end);
    scanLayer(message, 'hidden', depth + 1, () => outer, state);
  }
}

function scanEncodedPayloads(text: string, depth: number, toOuter: SpanMapper, state: ScanState): void {
  for (const payload of findEncodedPayloads(text, state.budget)) {
    if (isFull(state)) return;
    const outer = toOuter(payload.start, payload.end);
    scanLayer(payload.decoded, payload.layer, depth + 1, () => outer, state);
  }
}

function addFinding(state: ScanState, finding: Finding): void {
  if (isFull(state)) return;
  const key = `${finding.family}|${finding.pattern}|${finding.layer}|${finding.evidence.start}|${finding.evidence.end}`;
  if (state.seen.has(key)) return;
  state.seen.add(key);
  state.findings.push(finding);
}

function isFull(state: ScanState): boolean {
  return state.findings.length >= state.maxFindings;
}

function excerptOf(matched: string): string {
  return matched.length <= EXCERPT_LENGTH ? matched : `${matched.slice(0, EXCERPT_LENGTH - 3)}...`;
}

// Names the characters instead of copying them: an excerpt full of invisible characters
// would be invisible in a review queue too.
function describeHiddenRun(text: string, run: HiddenRun): string {
  const first = text.codePointAt(run.start)!;
  const codePoint = `U+${first.toString(16).toUpperCase().padStart(4, '0')}`;
  const units = run.end - run.start;
  const perCodePoint = first > 0xffff ? 2 : 1;
  // Tags and the supplementary selectors are all astral, the rest all in the BMP; a
  // variation-selector run may mix both, hence "about".
  const count = Math.round(units / perCodePoint);
  if (count <= 1) return codePoint;
  return run.kind === 'variation_selector_run'
    ? `${codePoint} and about ${count - 1} more`
    : `${codePoint} and ${count - 1} more`;
}
