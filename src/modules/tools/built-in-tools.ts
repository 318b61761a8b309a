import { emailSend } from './definitions/email-send.ts';
import { filesDelete } from './definitions/files-delete.ts';
import { createHttpFetchTool, HTTP_FETCH_PROFILE, type HttpFetchDeps } from './definitions/http-fetch.ts';
import { notesCreate } from './definitions/notes-create.ts';
import { paymentsRefund } from './definitions/payments-refund.ts';
import type { ToolDefinition } from './tool-definition.ts';
import { createToolRegistry, type ToolRegistry } from './tool-registry.ts';

export type ToolProfile = Pick<ToolDefinition, 'name' | 'riskTier' | 'sideEffecting' | 'outbound'>;

// The contract's five tools as data: who they are and what kind each is, without the
// dependencies their executors need. Flags, seeds and safety-stage defaults read this list.
export const BUILT_IN_TOOL_PROFILES: readonly ToolProfile[] = [
  notesCreate,
  emailSend,
  paymentsRefund,
  filesDelete,
  HTTP_FETCH_PROFILE,
];

export const BUILT_IN_TOOL_NAMES: readonly string[] = BUILT_IN_TOOL_PROFILES.map((tool) => tool.name);

export function createBuiltInTools(deps: HttpFetchDeps): ToolRegistry {
  return createToolRegistry([notesCreate, emailSend, paymentsRefund, filesDelete, createHttpFetchTool(deps)]);
}
