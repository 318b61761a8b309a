import type { Config } from '../platform/config.ts';
import type { SafeFetchPolicy } from '../platform/http/safe-fetch.ts';
import { createBuiltInTools } from '../modules/tools/built-in-tools.ts';
import type { ToolRegistry } from '../modules/tools/tool-registry.ts';
import { detectInjection } from '../modules/safety/injection-detector.ts';
import { classifyAddress } from '../modules/safety/ip-policy.ts';

const FETCH_MAX_BYTES = 256 * 1024;
const FETCH_CONTENT_TYPES = ['text/*', 'application/json', 'application/xml', 'application/xhtml+xml'];

export interface ToolCatalogue {
  tools: ToolRegistry;
  // For bounded metric labels: a tool name outside this set is reported as "other".
  toolNames: ReadonlySet<string>;
  // The one outbound-request policy, shared by the SSRF stage and the http.fetch executor.
  fetchPolicy: Omit<SafeFetchPolicy, 'isHostAllowed'>;
}

// The built-in tools. http.fetch is the only one that leaves the sandbox, so it carries the
// SSRF policy and scans what it fetched for injected instructions.
export function buildTools(
  config: Config,
  options: { resolveHost?: SafeFetchPolicy['resolve'] },
): ToolCatalogue {
  const fetchPolicy: Omit<SafeFetchPolicy, 'isHostAllowed'> = {
    classifyAddress,
    allowPrivateCidrs: config.fetch.allowPrivateCidrs,
    timeoutMs: config.worker.toolTimeoutMs,
    maxBytes: FETCH_MAX_BYTES,
    maxRedirects: 3,
    allowedContentTypes: FETCH_CONTENT_TYPES,
    resolve: options.resolveHost,
  };
  const tools = createBuiltInTools({
    fetchPolicy,
    scanBody: (text) => {
      const families = [...new Set(detectInjection(text).map((finding) => finding.family))];
      return { flagged: families.length > 0, families };
    },
  });
  return { tools, toolNames: new Set(tools.names()), fetchPolicy };
}
