import { lookup as dnsLookup } from 'node:dns/promises';
import { BlockList, isIP } from 'node:net';
import { Agent, request } from 'undici';
import { AppError, PermanentToolError, TransientToolError } from '../errors.ts';

// An HTTP GET that cannot be steered at our own network. Every hop (the first URL and each
// redirect) is checked against the host allowlist, its DNS answers are all checked against
// the address policy, and the connection is pinned to the address we checked, so a DNS
// answer that changes between check and connect (rebinding) cannot slip through.

export type AddressClass = 'public' | string;

export interface SafeFetchPolicy {
  isHostAllowed(host: string): boolean;
  classifyAddress(address: string): AddressClass;
  // CIDRs that may be reached although private (tests only, from FETCH_ALLOW_PRIVATE_CIDRS).
  allowPrivateCidrs: readonly string[];
  timeoutMs: number;
  maxBytes: number;
  maxRedirects: number;
  allowedContentTypes: readonly string[];
  resolve?: (host: string) => Promise<Array<{ address: string; family: number }>>;
}

export interface FetchedPage {
  status: number;
  final_url: string;
  content_type: string;
  body: string;
  truncated: boolean;
  redirects: number;
}

export class SsrfBlockedError extends PermanentToolError {
  constructor(message: string) {
    super('ssrf_blocked', message);
  }
}

export class HostNotAllowlistedError extends PermanentToolError {
  constructor(host: string) {
    super('host_not_allowlisted', `The host ${host} is not in fetch_allowed_hosts.`);
  }
}

const defaultResolve = (host: string) => dnsLookup(host, { all: true, verbatim: true });

export function hostOf(url: URL): string {
  return url.hostname.replace(/^\[|\]$/g, '').toLowerCase();
}

function exemptions(cidrs: readonly string[]): BlockList {
  const list = new BlockList();
  for (const cidr of cidrs) {
    const [address, prefix] = cidr.split('/');
    const family = isIP(address ?? '') === 6 ? 'ipv6' : 'ipv4';
    list.addSubnet(address!, Number(prefix ?? (family === 'ipv6' ? 128 : 32)), family);
  }
  return list;
}

// Resolves a host and returns the one address to connect to, or throws when any answer is
// not public: a name with one private answer among public ones is an attack, not a fluke.
export async function resolveSafely(
  host: string,
  policy: SafeFetchPolicy,
): Promise<{ address: string; family: number }> {
  const literal = isIP(host);
  const answers = literal
    ? [{ address: host, family: literal }]
    : await (policy.resolve ?? defaultResolve)(host).catch((err: Error) => {
        throw new TransientToolError('dns_failure', `Could not resolve ${host}: ${err.message}`);
      });
  if (!answers.length) throw new TransientToolError('dns_failure', `No addresses for ${host}.`);
  const exempt = exemptions(policy.allowPrivateCidrs);
  for (const answer of answers) {
    const kind = policy.classifyAddress(answer.address);
    const family = answer.family === 6 ? 'ipv6' : 'ipv4';
    if (kind !== 'public' && !exempt.check(answer.address, family)) {
      throw new SsrfBlockedError(`${host} resolves to a ${kind} address.`);
    }
  }
  return answers[0]!;
}

export async function safeFetch(
  rawUrl: string,
  policy: SafeFetchPolicy,
  signal?: AbortSignal,
): Promise<FetchedPage> {
  const deadline = AbortSignal.timeout(policy.timeoutMs);
  const combined = signal ? AbortSignal.any([signal, deadline]) : deadline;
  let url = new URL(rawUrl);
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      throw new SsrfBlockedError(`The scheme ${url.protocol} is not allowed.`);
    }
    if (url.username || url.password) throw new SsrfBlockedError('URLs with credentials are not allowed.');
    const host = hostOf(url);
    if (!policy.isHostAllowed(host)) throw new HostNotAllowlistedError(host);
    const pinned = await resolveSafely(host, policy);
    const agent = new Agent({
      connect: {
        timeout: policy.timeoutMs,
        lookup: (_hostname, _options, callback) =>
          callback(null, [{ address: pinned.address, family: pinned.family }]),
      },
    });
    try {
      const response = await request(url, {
        method: 'GET',
        dispatcher: agent,
        signal: combined,
        headers: { 'user-agent': 'Airlock-http.fetch/1.0', accept: policy.allowedContentTypes.join(', ') },
        headersTimeout: policy.timeoutMs,
        bodyTimeout: policy.timeoutMs,
      });
      const location = response.headers.location;
      if (response.statusCode >= 300 && response.statusCode < 400 && typeof location === 'string') {
        await response.body.dump();
        if (hop >= policy.maxRedirects)
          throw new PermanentToolError('too_many_redirects', 'Too many redirects.');
        url = new URL(location, url);
        continue;
      }
      const contentType = String(response.headers['content-type'] ?? '')
        .split(';')[0]!
        .trim()
        .toLowerCase();
      if (!policy.allowedContentTypes.some((allowed) => matchesType(contentType, allowed))) {
        await response.body.dump();
        throw new PermanentToolError(
          'content_type_not_allowed',
          `The content type "${contentType}" is not allowed.`,
        );
      }
      const { text, truncated } = await readCapped(response.body, policy.maxBytes);
      if (response.statusCode >= 500) {
        throw new TransientToolError('upstream_error', `The server answered ${response.statusCode}.`);
      }
      return {
        status: response.statusCode,
        final_url: url.toString(),
        content_type: contentType,
        body: text,
        truncated,
        redirects: hop,
      };
    } catch (err) {
      if (err instanceof AppError) throw err;
      if (combined.aborted)
        throw new TransientToolError('fetch_timeout', 'The fetch did not finish in time.');
      throw new TransientToolError('fetch_failed', `The fetch failed: ${(err as Error).message}`);
    } finally {
      await agent.close().catch(() => undefined);
    }
  }
}

function matchesType(actual: string, allowed: string): boolean {
  return allowed.endsWith('/*') ? actual.startsWith(allowed.slice(0, -1)) : actual === allowed;
}

async function readCapped(body: AsyncIterable<Buffer> & { destroy(): void }, maxBytes: number) {
  const chunks: Buffer[] = [];
  let size = 0;
  let truncated = false;
  for await (const chunk of body) {
    const room = maxBytes - size;
    if (chunk.length > room) {
      chunks.push(chunk.subarray(0, room));
      truncated = true;
      body.destroy();
      break;
    }
    chunks.push(chunk);
    size += chunk.length;
  }
  return { text: Buffer.concat(chunks).toString('utf8'), truncated };
}
