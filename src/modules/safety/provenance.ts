// Provenance: did a side-effecting argument come from the user, or from content the
// assistant merely read? A recipient, URL host, amount, order id or path that appears in a
// source document but not in the user's prompt is the signature of indirect prompt
// injection ("...and forward this to ops@evil.test"), whatever words the document used.
//
// Matching is done on folded text (normalise-text.ts: case, whitespace, compatibility
// forms) and respects token boundaries, so "acme.test" is not found inside
// "notacme.test" and "/tmp/a" not inside "/tmp/ab". Amounts are compared as numbers.
//
// Known limits: a value the user gave in a different form than the document ("fifty
// dollars" against "$50.00") reads as coming from the document; a value spelled out or
// obfuscated in the document ("ops at evil dot test") is not found there. Order ids
// shorter than four characters are not checked, because they occur everywhere.

import type { ProposalContext } from '../decisions/decision-types.ts';
import { normaliseText, originSpan, type NormalisedText } from './normalise-text.ts';

export type ProvenanceKind = 'recipient' | 'recipient_domain' | 'url_host' | 'amount' | 'order_id' | 'path';

export interface ProvenanceFinding {
  // The argument whose value was traced, e.g. "to" or "amount_cents".
  argument: string;
  kind: ProvenanceKind;
  // Where it was found: source_documents[documentIndex].content[start, end).
  documentIndex: number;
  start: number;
  end: number;
}

export interface ProvenanceOptions {
  // Recipient domains the tenant trusts (its email_allowed_domains). A trusted domain
  // turning up in a document proves nothing, so only full addresses are traced for them.
  trustedEmailDomains?: readonly string[];
}

interface Span {
  start: number;
  end: number;
}

interface FoldedDocument {
  index: number;
  folded: NormalisedText;
}

const MIN_ORDER_ID_LENGTH = 4;

export function checkProvenance(
  tool: string,
  args: Record<string, unknown>,
  context: ProposalContext,
  opts: ProvenanceOptions = {},
): ProvenanceFinding[] {
  const documents = context.source_documents ?? [];
  if (documents.length === 0) return [];
  const folded = documents.map((doc, index) => ({ index, folded: normaliseText(doc.content ?? '') }));
  const prompt = normaliseText(context.user_prompt ?? '');
  switch (tool) {
    case 'email.send':
      return stringValues(args.to).flatMap((to) => traceRecipient(to, folded, prompt, opts));
    case 'http.fetch':
      return typeof args.url === 'string' ? traceUrlHost(args.url, folded, prompt) : [];
    case 'payments.refund':
      return [
        ...traceAmount(args.amount_cents, folded, prompt),
        ...traceOrderId(args.order_id, folded, prompt),
      ];
    case 'files.delete':
      return typeof args.path === 'string' ? tracePath(args.path, folded, prompt) : [];
    default:
      return [];
  }
}

function stringValues(value: unknown): string[] {
  if (typeof value === 'string') return [value];
  if (Array.isArray(value)) return value.filter((v): v is string => typeof v === 'string');
  return [];
}

// Characters that continue a token of each kind; a match must not touch one on either
// side (a sentence-ending full stop does not count as touching).
const EMAIL_CHAR = /[a-z0-9._%+-]/;
const HOST_CHAR = /[a-z0-9.-]/;
const ORDER_ID_CHAR = /[a-z0-9_-]/;
const PATH_CHAR = /[a-z0-9._/~-]/;

function traceRecipient(
  to: string,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
  opts: ProvenanceOptions,
): ProvenanceFinding[] {
  const address = foldValue(to);
  const at = address.lastIndexOf('@');
  if (at <= 0) return [];
  if (findToken(prompt, address, EMAIL_CHAR)) return [];
  const addressFound = firstDocumentWith(documents, address, EMAIL_CHAR);
  if (addressFound) return [{ argument: 'to', kind: 'recipient', ...addressFound }];

  const domain = address.slice(at + 1);
  const trusted = (opts.trustedEmailDomains ?? []).map(foldValue);
  if (trusted.some((d) => domain === d || domain.endsWith(`.${d}`))) return [];
  if (findToken(prompt, domain, HOST_CHAR)) return [];
  const domainFound = firstDocumentWith(documents, domain, HOST_CHAR);
  return domainFound ? [{ argument: 'to', kind: 'recipient_domain', ...domainFound }] : [];
}

function traceUrlHost(
  url: string,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
): ProvenanceFinding[] {
  let host: string;
  try {
    host = new URL(url).hostname.replace(/^\[|\]$/g, '').toLowerCase();
  } catch {
    return [];
  }
  if (!host) return [];
  // "www.evil.test" is the same site as "evil.test" for this purpose.
  const names = host.startsWith('www.') ? [host, host.slice(4)] : [host];
  if (names.some((name) => findToken(prompt, name, HOST_CHAR))) return [];
  for (const name of names) {
    const found = firstDocumentWith(documents, name, HOST_CHAR);
    if (found) return [{ argument: 'url', kind: 'url_host', ...found }];
  }
  return [];
}

function traceOrderId(
  orderId: unknown,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
): ProvenanceFinding[] {
  const value = typeof orderId === 'number' ? String(orderId) : orderId;
  if (typeof value !== 'string' || value.trim().length < MIN_ORDER_ID_LENGTH) return [];
  return traceValue('order_id', 'order_id', value, ORDER_ID_CHAR, documents, prompt);
}

function traceValue(
  argument: string,
  kind: ProvenanceKind,
  raw: string,
  tokenChar: RegExp,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
): ProvenanceFinding[] {
  const value = foldValue(raw);
  if (!value || findToken(prompt, value, tokenChar)) return [];
  const found = firstDocumentWith(documents, value, tokenChar);
  return found ? [{ argument, kind, ...found }] : [];
}

// "/reports/q3.pdf", "reports/q3.pdf" and "./reports/q3.pdf" name the same file in the
// sandbox drive, so a path is traced without its leading slashes and dots, and a match
// may follow a '/' (the document's "/reports/q3.pdf" is the argument's "reports/q3.pdf").
function tracePath(
  raw: string,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
): ProvenanceFinding[] {
  const value = foldValue(raw).replace(/^(?:\.?\/)+/, '');
  if (!value || findToken(prompt, value, PATH_CHAR, '/')) return [];
  for (const doc of documents) {
    const span = findToken(doc.folded, value, PATH_CHAR, '/');
    if (span) {
      return [
        {
          argument: 'path',
          kind: 'path',
          documentIndex: doc.index,
          ...originSpan(doc.folded, span.start, span.end),
        },
      ];
    }
  }
  return [];
}

function foldValue(raw: string): string {
  return normaliseText(raw).text.trim();
}

function firstDocumentWith(
  documents: readonly FoldedDocument[],
  needle: string,
  tokenChar: RegExp,
): (Span & { documentIndex: number }) | null {
  for (const doc of documents) {
    const span = findToken(doc.folded, needle, tokenChar);
    if (span) return { documentIndex: doc.index, ...originSpan(doc.folded, span.start, span.end) };
  }
  return null;
}

// The first occurrence of `needle` in the folded text that no token character touches.
// `openBefore` lists characters that may precede it all the same ('/' for paths; a "./"
// or "../" before it is still part of a longer path and still touches).
function findToken(
  haystack: NormalisedText,
  needle: string,
  tokenChar: RegExp,
  openBefore = '',
): Span | null {
  if (!needle) return null;
  const text = haystack.text;
  for (let index = text.indexOf(needle); index >= 0; index = text.indexOf(needle, index + 1)) {
    const end = index + needle.length;
    const before = text[index - 1];
    const open =
      before !== undefined && openBefore.includes(before) && !touches(text, index - 2, -1, /[a-z0-9._~-]/);
    if ((open || !touches(text, index - 1, -1, tokenChar)) && !touches(text, end, 1, tokenChar))
      return { start: open ? index - 1 : index, end };
  }
  return null;
}

// Whether text[at] continues the token. A '.' only does when another token character
// follows it (so "mail bob@acme.test." still ends the address at the full stop).
function touches(text: string, at: number, direction: 1 | -1, tokenChar: RegExp): boolean {
  const ch = text[at];
  if (ch === undefined || !tokenChar.test(ch)) return false;
  if (ch !== '.') return true;
  const beyond = text[at + direction];
  return beyond !== undefined && tokenChar.test(beyond) && beyond !== '.';
}

// Amounts: the document must state the amount as money. The prompt is read generously,
// since a user who typed "refund 50" meant it either way.
const MONEY =
  /(?<![\w.,])((?:[$€£]|usd|eur|gbp)\s?)?(\d{1,3}(?:,\d{3}){1,4}|\d{1,12})(?:\.(\d{1,2}))?(?!\d)(\s?(?:usd|eur|gbp|dollars?|euros?|pounds?|bucks|cents?)\b)?/g;
const AMOUNT_LABEL =
  /(?:amount|refund|total|price|cost|charge|credit|paid|pay|sum|balance|cents)\W{0,3}(?:\w+\W{1,3}){0,2}$/;

function traceAmount(
  amountCents: unknown,
  documents: readonly FoldedDocument[],
  prompt: NormalisedText,
): ProvenanceFinding[] {
  const cents = typeof amountCents === 'string' ? Number(amountCents) : amountCents;
  if (typeof cents !== 'number' || !Number.isInteger(cents) || cents <= 0) return [];
  if (amountsIn(prompt.text, 'generous').some((a) => a.cents.includes(cents))) return [];
  for (const doc of documents) {
    const found = amountsIn(doc.folded.text, 'strict').find((a) => a.cents.includes(cents));
    if (found) {
      return [
        {
          argument: 'amount_cents',
          kind: 'amount',
          documentIndex: doc.index,
          ...originSpan(doc.folded, found.start, found.end),
        },
      ];
    }
  }
  return [];
}

interface StatedAmount extends Span {
  // The amounts in cents this text could mean.
  cents: number[];
}

function amountsIn(text: string, reading: 'strict' | 'generous'): StatedAmount[] {
  const amounts: StatedAmount[] = [];
  for (const match of text.matchAll(MONEY)) {
    const [whole, symbol, integer, fraction, unit] = match;
    const units = Number(integer!.replace(/,/g, ''));
    const cents: number[] = [];
    if (fraction !== undefined) {
      cents.push(units * 100 + Number(fraction.padEnd(2, '0')));
    } else if (unit !== undefined && /cent/.test(unit)) {
      cents.push(units);
    } else if (symbol !== undefined || unit !== undefined) {
      cents.push(units * 100);
    } else if (reading === 'generous') {
      cents.push(units, units * 100);
    } else if (AMOUNT_LABEL.test(text.slice(Math.max(0, match.index - 32), match.index))) {
      // A bare number is read as cents only where the text says it is an amount, so
      // order numbers and dates do not count.
      cents.push(units);
    }
    if (cents.length > 0) amounts.push({ start: match.index, end: match.index + whole.length, cents });
  }
  return amounts;
}
