import { isIP } from 'node:net';
import type { SafeFetchPolicy } from '../../../platform/http/safe-fetch.ts';
import { hostOf } from '../../../platform/http/safe-fetch.ts';
import { checkFetchTarget, isHostAllowlisted } from '../../tools/definitions/http-fetch.ts';
import type { DecisionStage } from '../decision-types.ts';

// Denies http.fetch targets that are, or resolve to, a non-public address. IP literals in
// any spelling are caught without DNS (the WHATWG URL parser canonicalises decimal, octal
// and hex IPv4). Names are resolved only when allowlisted: resolving any name a model
// writes would hand an attacker a DNS side channel out of our network.
export function createSsrfStage(deps: {
  fetchPolicy: Omit<SafeFetchPolicy, 'isHostAllowed'>;
}): DecisionStage {
  return {
    name: 'ssrf',
    async evaluate(input) {
      if (input.tool !== 'http.fetch') return { outcome: 'allow', reasons: [] };
      const raw = input.arguments.url;
      if (typeof raw !== 'string') return { outcome: 'allow', reasons: [] };
      let host: string;
      try {
        host = hostOf(new URL(raw));
      } catch {
        return {
          outcome: 'deny',
          risk: 60,
          reasons: [{ code: 'ssrf_blocked', message: 'The URL cannot be parsed.' }],
        };
      }
      if (!isIP(host) && !isHostAllowlisted(host, input.policy)) return { outcome: 'allow', reasons: [] };
      const blocked = await checkFetchTarget(raw, deps.fetchPolicy);
      if (!blocked) return { outcome: 'allow', reasons: [] };
      return { outcome: 'deny', risk: 80, reasons: [{ code: 'ssrf_blocked', message: blocked }] };
    },
  };
}
