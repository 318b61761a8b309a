import { Type, type Static } from 'typebox';
import { allow } from '../../decisions/decision-types.ts';
import type { TenantPolicy } from '../../decisions/decision-types.ts';
import {
  hostOf,
  resolveSafely,
  safeFetch,
  type FetchedPage,
  type SafeFetchPolicy,
} from '../../../platform/http/safe-fetch.ts';
import { AppError } from '../../../platform/errors.ts';
import { defineTool, type ToolDefinition } from '../tool-definition.ts';

const HttpFetchArgs = Type.Object(
  {
    url: Type.String({ minLength: 1, maxLength: 2_048, pattern: '^[Hh][Tt][Tt][Pp][Ss]?://' }),
  },
  { additionalProperties: false },
);
type HttpFetchArgs = Static<typeof HttpFetchArgs>;

export function isHostAllowlisted(host: string, policy: Pick<TenantPolicy, 'fetch_allowed_hosts'>): boolean {
  return policy.fetch_allowed_hosts.some((allowed) =>
    allowed.startsWith('*.')
      ? host.endsWith(allowed.slice(1)) && host.length > allowed.length - 1
      : host === allowed,
  );
}

export interface HttpFetchDeps {
  fetchPolicy: Omit<SafeFetchPolicy, 'isHostAllowed'>;
  // Scans the fetched body for injected instructions; its findings flag the result.
  scanBody?: (text: string) => { flagged: boolean; families: string[] };
}

// What http.fetch is, apart from the executor that needs its outbound policy.
export const HTTP_FETCH_PROFILE = {
  name: 'http.fetch',
  description: 'Fetches a web page by GET from an allowlisted host.',
  riskTier: 'medium',
  sideEffecting: true,
  outbound: true,
  effect: 'remote',
} as const satisfies Partial<ToolDefinition>;

export function createHttpFetchTool(deps: HttpFetchDeps) {
  return defineTool<HttpFetchArgs>({
    ...HTTP_FETCH_PROFILE,
    argumentsSchema: HttpFetchArgs,
    // The tool default is synchronous; the DNS check runs in the SSRF stage and again at
    // execution time, against the address the connection is pinned to.
    defaultDecision(args, policy) {
      let host: string;
      try {
        host = hostOf(new URL(args.url));
      } catch {
        return { outcome: 'deny', reasons: [{ code: 'ssrf_blocked', message: 'The URL cannot be parsed.' }] };
      }
      if (isHostAllowlisted(host, policy)) return allow();
      return {
        outcome: 'deny',
        reasons: [
          { code: 'host_not_allowlisted', message: `The host ${host} is not in fetch_allowed_hosts.` },
        ],
      };
    },
    async execute(ctx, args): Promise<Record<string, unknown>> {
      const page: FetchedPage = await safeFetch(
        args.url,
        { ...deps.fetchPolicy, isHostAllowed: (host) => isHostAllowlisted(host, ctx.policy) },
        ctx.signal,
      );
      const scan = deps.scanBody?.(page.body) ?? { flagged: false, families: [] };
      return { ...page, injection_flagged: scan.flagged, injection_families: scan.families };
    },
  });
}

// For the SSRF decision stage: resolves the host now and reports a blocked address.
export async function checkFetchTarget(
  url: string,
  policy: Omit<SafeFetchPolicy, 'isHostAllowed'>,
): Promise<string | null> {
  try {
    await resolveSafely(hostOf(new URL(url)), { ...policy, isHostAllowed: () => true });
    return null;
  } catch (err) {
    if (err instanceof AppError && err.code === 'ssrf_blocked') return err.message;
    return null;
  }
}
