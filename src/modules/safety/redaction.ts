// Redaction of personal data and secrets in text and in JSON-like values: what tool
// results, logs and traces pass through before anyone sees them.
//
// Masks (whole tokens, never partial, so nothing about the value survives):
//   [REDACTED_SECRET]  anything secret-detector.ts finds (keys, tokens, private keys, JWTs,
//                      credential assignments, high-entropy tokens)
//   [REDACTED_EMAIL]   email addresses outside the tenant's own domains (and their
//                      subdomains); a tenant's own addresses are its business data
//   [REDACTED_CARD]    13 to 19 digits, optionally grouped by spaces or dashes, that pass
//                      the Luhn check
//   [REDACTED_PHONE]   international numbers written with a leading "+" (8 to 15 digits)
//                      and common national layouts: (415) 555-2671, 415-555-2671,
//                      020 7946 0958, 01 23 45 67 89
// A full mask was chosen over partial masking (j***@example.com) because the partial form
// still leaks the domain and an initial, which is enough to re-identify people in a small
// tenant.
//
// Phone layouts are deliberately narrow: a bare run of digits is not treated as a phone,
// so order numbers, timestamps and ids survive. The price is that "4155552671" written
// without separators is not masked.
//
// Text longer than `maxStringLength` is cut there and marked [TRUNCATED]: the detectors
// read a bounded prefix, and an unread tail must not pass through unmasked.

import { detectSecrets, luhnValid } from './secret-detector.ts';

export interface RedactionOptions {
  // Email domains that stay visible (subdomains included).
  tenantEmailDomains?: readonly string[];
  // Nesting levels redactValue walks; deeper values become '[TRUNCATED]'. Default 32.
  maxDepth?: number;
  // Characters kept per string. Default 1 MiB.
  maxStringLength?: number;
}

export const REDACTED = Object.freeze({
  secret: '[REDACTED_SECRET]',
  email: '[REDACTED_EMAIL]',
  card: '[REDACTED_CARD]',
  phone: '[REDACTED_PHONE]',
  value: '[REDACTED]',
  truncated: '[TRUNCATED]',
  circular: '[CIRCULAR]',
  binary: '[BINARY]',
});

const DEFAULT_MAX_STRING_LENGTH = 1024 * 1024;
const DEFAULT_MAX_DEPTH = 32;

// Each starts only where a token starts (the lookbehinds), so a long run of token
// characters is scanned once, not once per position.
const EMAIL = /(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]{1,64}@[A-Za-z0-9-]{1,63}(?:\.[A-Za-z0-9-]{1,63}){1,8}/g;
const CARD = /(?<![\w-])\d(?:[ -]?\d){12,18}(?![\w-])/g;
const PHONE_PATTERNS: readonly RegExp[] = [
  // International: "+" and country code, then digits with the usual separators.
  /(?<![\w+])\+[1-9][\d ().-]{6,22}\d(?!\w)/g,
  // North American: (415) 555-2671, 415-555-2671, 1 415 555 2671.
  /(?<![\w-])(?:1[ .-]?)?(?:\(\d{3}\) ?|\d{3}[ .-])\d{3}[ .-]\d{4}(?![\w-])/g,
  // Trunk prefix 0 with groups: 020 7946 0958, 07700 900123.
  /(?<![\w-])0\d{2,4}[ -]\d{3,4}[ -]?\d{3,4}(?![\w-])/g,
  // Pairs: 01 23 45 67 89.
  /(?<![\w-])0[1-9](?:[ .]\d{2}){4}(?![\w-])/g,
];

interface Mask {
  start: number;
  end: number;
  replacement: string;
}

export function redactText(text: string, opts: RedactionOptions = {}): string {
  const limit = opts.maxStringLength ?? DEFAULT_MAX_STRING_LENGTH;
  const truncated = text.length > limit;
  const scanned = truncated ? text.slice(0, limit) : text;
  const masks = collectMasks(scanned, opts.tenantEmailDomains ?? []);
  const redacted = applyMasks(scanned, masks);
  return truncated ? `${redacted}${REDACTED.truncated}` : redacted;
}

// In priority order: a secret wins over an email inside it, an email over digits inside it.
function collectMasks(text: string, tenantDomains: readonly string[]): Mask[] {
  const masks: Mask[] = [];
  const add = (start: number, end: number, replacement: string): void => {
    if (!masks.some((m) => start < m.end && m.start < end)) masks.push({ start, end, replacement });
  };
  // Card numbers get their own marker below, whether or not a CVV made them a secret.
  for (const secret of detectSecrets(text, { maxLength: text.length }))
    if (secret.kind !== 'payment_card') add(secret.start, secret.end, REDACTED.secret);
  if (text.includes('@')) {
    for (const match of text.matchAll(EMAIL)) {
      if (isMaskedEmail(match[0], tenantDomains))
        add(match.index, match.index + match[0].length, REDACTED.email);
    }
  }
  for (const match of text.matchAll(CARD)) {
    if (isCardNumber(match[0])) add(match.index, match.index + match[0].length, REDACTED.card);
  }
  for (const phone of PHONE_PATTERNS) {
    for (const match of text.matchAll(phone)) {
      if (isPhoneNumber(match[0])) add(match.index, match.index + match[0].length, REDACTED.phone);
    }
  }
  return masks.sort((a, b) => a.start - b.start);
}

function applyMasks(text: string, masks: readonly Mask[]): string {
  if (masks.length === 0) return text;
  let out = '';
  let cursor = 0;
  for (const mask of masks) {
    out += text.slice(cursor, mask.start) + mask.replacement;
    cursor = mask.end;
  }
  return out + text.slice(cursor);
}

function isMaskedEmail(address: string, tenantDomains: readonly string[]): boolean {
  const domain = address.slice(address.lastIndexOf('@') + 1).toLowerCase();
  // The regex accepts "a@b.c-d"; a real domain ends in a letter-only TLD.
  if (!/\.[a-z]{2,63}$/.test(domain)) return false;
  return !tenantDomains.some((tenant) => {
    const own = tenant.toLowerCase().replace(/^@/, '');
    return domain === own || domain.endsWith(`.${own}`);
  });
}

function isCardNumber(candidate: string): boolean {
  const digits = candidate.replace(/[ -]/g, '');
  return digits.length >= 13 && digits.length <= 19 && luhnValid(digits);
}

function isPhoneNumber(candidate: string): boolean {
  const digits = candidate.replace(/\D/g, '').length;
  if (candidate.startsWith('+')) return digits >= 8 && digits <= 15;
  return digits >= 10 && digits <= 11;
}

// Keys whose values are credentials whatever they look like.
const SENSITIVE_KEY =
  /^(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|x-api-key|token|access[_-]?token|refresh[_-]?token|id[_-]?token|auth[_-]?token|authorization|proxy-authorization|cookie|set-cookie|private[_-]?key|secret[_-]?key|session[_-]?id|sessionid|ssn|card[_-]?number|cvv|cvc)$/i;

// A deep, redacted copy of a JSON-like value; the input is never modified. Follows JSON's
// view of data: functions and symbols are dropped, toJSON() is honoured, binary data is
// replaced by a marker.
export function redactValue(value: unknown, opts: RedactionOptions = {}): unknown {
  return redactAt(value, opts, opts.maxDepth ?? DEFAULT_MAX_DEPTH, new Set());
}

function redactAt(
  value: unknown,
  opts: RedactionOptions,
  depthLeft: number,
  ancestors: Set<object>,
): unknown {
  if (typeof value === 'string') return redactText(value, opts);
  if (typeof value === 'number' || typeof value === 'bigint') return redactNumber(value);
  if (typeof value === 'function' || typeof value === 'symbol') return undefined;
  if (value === null || typeof value !== 'object') return value;
  if (ancestors.has(value)) return REDACTED.circular;
  if (depthLeft <= 0) return REDACTED.truncated;
  if (ArrayBuffer.isView(value) || value instanceof ArrayBuffer) return REDACTED.binary;
  const toJSON = (value as { toJSON?: unknown }).toJSON;
  if (typeof toJSON === 'function' && !Array.isArray(value)) {
    return redactAt(toJSON.call(value), opts, depthLeft, ancestors);
  }

  ancestors.add(value);
  try {
    if (Array.isArray(value))
      return value.map((item) => redactAt(item, opts, depthLeft - 1, ancestors) ?? null);
    return redactObject(value as Record<string, unknown>, opts, depthLeft, ancestors);
  } finally {
    ancestors.delete(value);
  }
}

function redactObject(
  value: Record<string, unknown>,
  opts: RedactionOptions,
  depthLeft: number,
  ancestors: Set<object>,
): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [key, child] of Object.entries(value)) {
    const redactedChild =
      SENSITIVE_KEY.test(key) && child != null
        ? REDACTED.value
        : redactAt(child, opts, depthLeft - 1, ancestors);
    if (redactedChild === undefined) continue;
    // Keys can be personal data too ({"bob@acme.test": ...}); two keys that redact alike
    // keep apart with a counter rather than overwrite each other.
    let outKey = redactText(key, opts);
    for (let n = 2; outKey !== key && Object.hasOwn(out, outKey); n++)
      outKey = `${redactText(key, opts)}#${n}`;
    out[outKey] = redactedChild;
  }
  return out;
}

// Card numbers stored as numbers are still card numbers.
function redactNumber(value: number | bigint): number | bigint | string {
  if (typeof value === 'number' && !Number.isSafeInteger(value)) return value;
  const digits = (value < 0 ? -value : value).toString();
  return isCardNumber(digits) ? REDACTED.card : value;
}

// For a pino serializer: every email is masked (logs have no tenant context), strings
// are cut at 4 KiB and nesting at 8 levels, which keeps one log line small.
export function redactForLog(value: unknown): unknown {
  return redactValue(value, { maxDepth: 8, maxStringLength: 4096 });
}
