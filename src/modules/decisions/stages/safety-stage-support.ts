// What the content-safety stages (injection, provenance, secrets) share: what they need to
// know about a tool, their dependencies, and how they cap and score their reasons.

import type { Reason, StageResult } from '../decision-types.ts';
import type { InjectionDetectorOptions } from '../../safety/injection-detector.ts';
import type { InjectionModel } from '../../safety/injection-model.ts';
import { BUILT_IN_TOOL_PROFILES, type ToolProfile } from '../../tools/built-in-tools.ts';

// What the stages need to know about a tool.
export interface ToolTraits {
  isSideEffecting(tool: string): boolean;
  isOutbound(tool: string): boolean;
}

// Read from the tools' own definitions. A tool nobody defined is treated as the most
// dangerous kind: side-effecting and outbound.
export function toolTraitsOf(
  lookup: (tool: string) => Omit<ToolProfile, 'name' | 'riskTier'> | undefined,
): ToolTraits {
  return Object.freeze({
    isSideEffecting: (tool: string) => lookup(tool)?.sideEffecting ?? true,
    isOutbound: (tool: string) => lookup(tool)?.outbound ?? true,
  });
}

const BUILT_IN = new Map(BUILT_IN_TOOL_PROFILES.map((tool) => [tool.name, tool]));

// The default for stages built without a registry (tests, benchmarks): the built-in tools.
export const CONTRACT_TOOL_TRAITS: ToolTraits = toolTraitsOf((tool) => BUILT_IN.get(tool));

export const SAFETY_RISK = Object.freeze({ deny: 60, review: 30 });

// A stage lists this many reasons at most, then says how many it left out.
const MAX_REASONS = 8;

export interface SafetyStageDeps {
  tools?: ToolTraits;
  detector?: InjectionDetectorOptions;
  // The trained injection model (ADR 0031); the shipped one when left out, none when null.
  injectionModel?: InjectionModel | null;
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
