// What the content-safety stages (injection, provenance, secrets) share: what they need to
// know about a tool, their dependencies, and how they cap and score their reasons.

import type { Reason, StageResult } from '../decision-types.ts';
import type { InjectionDetectorOptions } from '../../safety/injection-detector.ts';

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

export function safetyResult(outcome: 'review' | 'deny', reasons: Reason[]): StageResult {
  const listed = reasons.slice(0, MAX_REASONS);
  if (reasons.length > MAX_REASONS) {
    listed.push({
      code: listed[0]!.code,
      message: `${reasons.length - MAX_REASONS} further findings are not listed.`,
    });
  }
  return { outcome, reasons: listed, risk: SAFETY_RISK[outcome] };
}
