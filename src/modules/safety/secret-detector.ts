// Finds credentials in text: pure, synchronous, linear in its input.
//
// Two kinds of evidence, tried in priority order; where findings overlap the earlier kind
// wins, so an API key inside `api_key=...` is reported as the key, not the assignment:
//   1. Formats with a recognisable shape: AWS access key ids, GitHub, GitLab, Slack
//      (tokens and webhooks), Stripe, Google, OpenAI and Anthropic-style keys, npm,
//      Hugging Face, SendGrid, Shopify, Databricks, Docker Hub, Figma, Linear, Notion,
//      Groq, Grafana, HashiCorp Vault, Tailscale and 1Password tokens, private key
//      blocks, JWTs (the header must decode to JSON with "alg"), bearer and basic
//      authorization headers, passwords in URLs and database connection strings, AWS
//      secret keys and Azure storage keys named as such, and payment-card numbers (Luhn
//      and a card prefix) with a CVV, an expiry or the word "card" beside them.
//   2. Anything assigned to a credential-sounding name (`password=`, `api_key:`), and
//      high-entropy tokens that look random rather than made of words.
// The shapes follow the vendors' published token formats; secretlint's rule catalogue
// serves as a test oracle for them (secret-oracle.test.ts).
//
// Linear time: every regex is anchored on a literal prefix with bounded quantifiers and no
// failing suffix after an open-ended run; JWTs and high-entropy runs are found by plain
// loops that look at each character a bounded number of times.
//
// Known limits:
//   - High entropy is a heuristic. Random-looking identifiers (document ids in URLs,
//     object ids) are reported; short secrets (under 24 characters), secrets made of
//     words, and runs longer than 512 characters (attachments, data URIs) are not.
//     Full hex digests of 40 and 64 digits (git object ids, SHA-256) are not reported.
//   - A secret split across lines, spaced out or otherwise reshaped is not found, except
//     base64-encoded text, which is decoded once and scanned again.
//   - Only the first `maxLength` characters are read (1 MiB by default).

export type SecretKind =
  | 'aws_access_key_id'
  | 'aws_secret_access_key'
  | 'azure_storage_key'
  | 'github_token'
  | 'gitlab_token'
  | 'slack_token'
  | 'slack_webhook'
  | 'stripe_key'
  | 'google_api_key'
  | 'openai_api_key'
  | 'anthropic_api_key'
  | 'npm_token'
  | 'huggingface_token'
  | 'sendgrid_key'
  | 'shopify_token'
  | 'vendor_token'
  | 'private_key'
  | 'jwt'
  | 'bearer_token'
  | 'basic_auth'
  | 'url_password'
  | 'connection_string'
  | 'payment_card'
  | 'credential_assignment'
  | 'high_entropy';

export interface SecretFinding {
  kind: SecretKind;
  start: number;
  end: number;
}

export interface SecretDetectorOptions {
  // Characters read; the rest is ignored. Default 1 MiB.
  maxLength?: number;
  // Report high-entropy tokens. Default true.
  highEntropy?: boolean;
  // Stop after this many findings. Default 256.
  maxFindings?: number;
}

interface ShapedSecret {
  kind: SecretKind;
  regex: RegExp;
  // Capture group holding the secret itself, when the match includes its label.
  group?: number;
  accept?: (secret: string) => boolean;
}

const hasDigitAndLetter = (value: string): boolean => /\d/.test(value) && /[A-Za-z]/.test(value);

// Shapes with a literal prefix. Quantifiers are bounded and nothing after an open-ended
// run can fail, so each match attempt is constant work. Used through matchAll only.
const SHAPED_SECRETS: readonly ShapedSecret[] = Object.freeze([
  { kind: 'aws_access_key_id', regex: /\b(?:AKIA|ASIA)[A-Z0-9]{16}\b/g },
  { kind: 'github_token', regex: /\bgh[pousr]_[A-Za-z0-9]{36,251}/g },
  { kind: 'github_token', regex: /\bgithub_pat_[A-Za-z0-9_]{22,255}/g },
  { kind: 'slack_token', regex: /\bxox[abprs]-[A-Za-z0-9-]{10,250}/g },
  { kind: 'stripe_key', regex: /\b[sr]k_(?:live|test)_[A-Za-z0-9]{16,247}/g },
  { kind: 'google_api_key', regex: /\bAIza[0-9A-Za-z_-]{35}/g },
  {
    kind: 'openai_api_key',
    regex: /\bsk-(?:proj-|svcacct-|admin-|ant-)?[A-Za-z0-9][A-Za-z0-9_-]{31,250}/g,
    accept: hasDigitAndLetter,
  },
  {
    kind: 'aws_secret_access_key',
    regex: /aws.{0,20}?(?:secret|sk).{0,20}?[:=]\s{0,3}["']?([A-Za-z0-9/+]{40})(?![A-Za-z0-9/+=])/gi,
    group: 1,
  },
  { kind: 'bearer_token', regex: /\bbearer\s{1,3}([A-Za-z0-9._~+/-]{16,4096}=*)/gi, group: 1 },
  { kind: 'anthropic_api_key', regex: /\bsk-ant-(?:api|admin)\d{2}-[A-Za-z0-9_-]{32,200}/g },
  { kind: 'npm_token', regex: /\bnpm_[A-Za-z0-9]{36}(?![A-Za-z0-9])/g },
  { kind: 'gitlab_token', regex: /\bgl(?:pat|dt|ptt|rt|cbt|oas|ft|imt|agent|soat)-[A-Za-z0-9_-]{20,128}/g },
  { kind: 'huggingface_token', regex: /\bhf_[A-Za-z]{34}(?![A-Za-z])/g },
  { kind: 'sendgrid_key', regex: /\bSG\.[A-Za-z0-9_-]{22}\.[A-Za-z0-9_-]{43}/g },
  { kind: 'shopify_token', regex: /\bshp(?:at|ca|pa|ss)_[a-fA-F0-9]{32}/g },
  { kind: 'slack_token', regex: /\bxapp-\d-[A-Za-z0-9-]{10,250}/g },
  {
    kind: 'slack_webhook',
    regex:
      /\bhooks\.slack\.com\/(?:services|workflows|triggers)\/[A-Za-z0-9_]{8,20}\/[A-Za-z0-9_]{8,20}\/[A-Za-z0-9_]{16,64}/g,
  },
  {
    kind: 'vendor_token',
    // Databricks, Docker Hub, Figma, Linear, Notion, Groq, Grafana (cloud and service
    // account), HashiCorp Vault, Tailscale, 1Password service accounts, DigitalOcean,
    // PyPI and Doppler: each with the prefix its vendor publishes.
    regex:
      /\b(?:dapi[a-f0-9]{32}(?:-\d)?|dckr_pat_[A-Za-z0-9_-]{27}|figd_[A-Za-z0-9_-]{40,200}|lin_api_[A-Za-z0-9_]{32,128}|ntn_\d{11}[A-Za-z0-9]{35}|secret_[A-Za-z0-9]{43}|gsk_[A-Za-z0-9]{52}|glc_[A-Za-z0-9+/]{32,400}={0,2}|glsa_[A-Za-z0-9]{32}_[a-fA-F0-9]{8}|hv[sbr]\.[A-Za-z0-9_-]{24,200}|tskey-[a-z]{2,20}-[A-Za-z0-9_]{8,40}-[A-Za-z0-9_]{16,60}|ops_ey[A-Za-z0-9+/=_-]{40,2000}|do[pors]_v1_[a-f0-9]{64}|pypi-AgE[A-Za-z0-9_-]{50,400}|dp\.(?:st|ct|sa|scim|audit)\.[A-Za-z0-9_.-]{40,100})/g,
  },
  {
    kind: 'azure_storage_key',
    regex: /\bAccountKey=([A-Za-z0-9+/]{86}==)/g,
    group: 1,
  },
]);

// A password in a URL: `scheme://user:password@host`. For database and queue schemes the
// whole string is a connection string; for web schemes it is basic authentication.
const URL_CREDENTIALS =
  /\b((?:postgres(?:ql)?|mysql|mariadb|mongodb(?:\+srv)?|redis|rediss|amqps?|mssql|sqlserver|oracle|cockroachdb|clickhouse|jdbc:[a-z]{2,12}|https?|ftps?|smtps?|imaps?|ldaps?|ssh|sftp|git)):\/\/([^\s:/@?#]{1,128}):([^\s@/?#]{1,256})@/gi;
const WEB_SCHEMES = /^(?:https?|ftps?|smtps?|imaps?|ldaps?|ssh|sftp|git)$/i;
const URL_PASSWORD_PLACEHOLDER =
  /^(?:\*+|x{3,}|\.{3,}|<[^>]*>|\[[^\]]*\]|\$\{?[\w.]+\}?|\{\{.*\}\}|%[\w]+%|password|passwd|pass|pwd|secret|changeme|example|your[_-]?password|pw)$/i;
const BASIC_AUTH = /\bbasic\s{1,3}([A-Za-z0-9+/]{8,1024}={0,2})/gi;

// Payment cards: 13 to 19 digits, in groups or not, that pass the Luhn check and start
// like a card scheme (Visa, Mastercard, Amex, Discover, JCB, Diners, UnionPay), and that
// sit within a short distance of a CVV, an expiry or the word "card". A bare number that
// happens to pass Luhn (one in ten do) is not enough: order and tracking numbers would be
// caught.
const CARD_NUMBER = /(?<![\d-])(?:\d[ -]?){12,18}\d(?![\d-])/g;
const CARD_PREFIX = /^(?:4|5[1-5]|2[2-7]|3[47]|6(?:011|5|4[4-9]|2)|35|3(?:0[0-5]|[68]))/;
const CARD_CONTEXT =
  /\b(?:cvv2?|cvc2?|csc|cid|security code|card (?:verification|security)|exp(?:iry|iration|ires)?\.?(?: date)?|valid (?:thru|through|until)|card|visa|master ?card|amex|american express|discover|credit|debit)\b|\b(?:0[1-9]|1[0-2]) ?\/ ?(?:\d{2}|20\d{2})\b/i;
const CARD_CONTEXT_WINDOW = 60;

// `name = value` or `"name": "value"` where the name says credential. The value is what
// gets reported.
const CREDENTIAL_ASSIGNMENT =
  /(?:password|passwd|pwd|passphrase|secret|client[_-]?secret|api[_-]?key|apikey|access[_-]?token|auth[_-]?token|refresh[_-]?token|private[_-]?key|secret[_-]?key|token)["']?\s{0,3}([:=])\s{0,3}["']?([^\s"'`,;<>]{6,200})/gi;
const PLACEHOLDER_VALUE =
  /^(?:\*+|x{3,}|\.{3,}|<[^>]*>?|\$\{?[\w.]+\}?|\{\{.*\}\}|%[\w]+%|null|none|nil|true|false|undefined|redacted|\[redacted\]|example|your[_-].*|process\.env\..*|os\.environ.*|env\(.*)$/i;

const PRIVATE_KEY_BEGIN = /-----BEGIN (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const PRIVATE_KEY_END = /-----END (?:[A-Z0-9]{1,20} ){0,3}PRIVATE KEY(?: BLOCK)?-----/g;
const MAX_PRIVATE_KEY_LENGTH = 16 * 1024;

const MIN_ENTROPY_RUN = 24;
const MAX_ENTROPY_RUN = 512;
// Identifiers like Stripe's "ch_3Mml..." carry a short type prefix; keys that use the
// same style (sk_, rk_, whsec_) are caught by their own shapes first.
const PREFIXED_IDENTIFIER =
  /^(?!(?:npm|hf|gsk|figd|ops|lin|ntn|dckr|shp[a-z]{2}|glpat)_)[a-z]{1,6}_[A-Za-z0-9]{8,}$/;
const UUID = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

export const DEFAULT_SECRET_SCAN_LENGTH = 1024 * 1024;

export function detectSecrets(text: string, opts: SecretDetectorOptions = {}): SecretFinding[] {
  const maxLength = opts.maxLength ?? DEFAULT_SECRET_SCAN_LENGTH;
  const scanned = text.length > maxLength ? text.slice(0, maxLength) : text;
  const collector = createCollector(opts.maxFindings ?? 256);
  collectJwts(scanned, collector);
  collectShaped(scanned, collector);
  collectPrivateKeys(scanned, collector);
  collectUrlCredentials(scanned, collector);
  collectBasicAuth(scanned, collector);
  collectPaymentCards(scanned, collector);
  collectAssignments(scanned, collector);
  if (opts.highEntropy ?? true) collectHighEntropy(scanned, collector, { decodes: 64 });
  return collector.sorted();
}

interface Collector {
  // Adds a finding unless it overlaps one already kept; earlier calls have priority.
  add(kind: SecretKind, start: number, end: number): void;
  full(): boolean;
  sorted(): SecretFinding[];
}

function createCollector(maxFindings: number): Collector {
  const kept: SecretFinding[] = [];
  return {
    add(kind, start, end) {
      if (kept.length >= maxFindings || end <= start) return;
      if (kept.some((f) => start < f.end && f.start < end)) return;
      kept.push({ kind, start, end });
    },
    full: () => kept.length >= maxFindings,
    sorted: () => [...kept].sort((a, b) => a.start - b.start),
  };
}

function collectShaped(text: string, collector: Collector): void {
  for (const shape of SHAPED_SECRETS) {
    for (const match of text.matchAll(shape.regex)) {
      if (collector.full()) return;
      const secret = shape.group ? match[shape.group]! : match[0];
      if (shape.accept && !shape.accept(secret)) continue;
      const start = match.index + (shape.group ? match[0].lastIndexOf(secret) : 0);
      collector.add(shape.kind, start, start + secret.length);
    }
  }
}

// From BEGIN to the first END after it. END positions are found once, up front, so a
// text full of BEGIN lines does not search the rest of the text once per line.
function collectPrivateKeys(text: string, collector: Collector): void {
  if (!text.includes('PRIVATE KEY')) return;
  const ends = [...text.matchAll(PRIVATE_KEY_END)].map((m) => m.index + m[0].length);
  let next = 0;
  for (const begin of text.matchAll(PRIVATE_KEY_BEGIN)) {
    if (collector.full()) return;
    while (next < ends.length && ends[next]! <= begin.index) next += 1;
    const end = ends[next];
    const limit = begin.index + MAX_PRIVATE_KEY_LENGTH;
    if (end !== undefined && end <= limit) {
      collector.add('private_key', begin.index, end);
    } else {
      collector.add('private_key', begin.index, endOfKeyMaterial(text, begin.index + begin[0].length, limit));
    }
  }
}

// No END line: the key material is the run of base64-only lines after the header.
function endOfKeyMaterial(text: string, headerEnd: number, limit: number): number {
  const line = /\r?\n([A-Za-z0-9+/=]{1,128})(?=\r?\n|$)/y;
  let end = headerEnd;
  line.lastIndex = end;
  for (let match = line.exec(text); match && line.lastIndex <= limit; match = line.exec(text))
    end = line.lastIndex;
  return end;
}

function isBase64UrlChar(code: number): boolean {
  return (
    (code >= 0x30 && code <= 0x39) ||
    (code >= 0x41 && code <= 0x5a) ||
    (code >= 0x61 && code <= 0x7a) ||
    code === 0x2d ||
    code === 0x5f
  );
}

// A JWT header is base64url of '{"', so every token starts with "eyJ". Each token is read
// to its end once and the search resumes after it.
function collectJwts(text: string, collector: Collector): void {
  let from = 0;
  for (;;) {
    const start = text.indexOf('eyJ', from);
    if (start < 0 || collector.full()) return;
    if (start > 0 && isBase64UrlChar(text.charCodeAt(start - 1))) {
      from = start + 3;
      continue;
    }
    let end = start;
    while (end < text.length && end - start < 16_384) {
      const code = text.charCodeAt(end);
      if (!isBase64UrlChar(code) && code !== 0x2e) break;
      end += 1;
    }
    const segments = text.slice(start, end).split('.');
    if (segments.length >= 3 && segments[1]!.length > 0 && isJwtHeader(segments[0]!)) {
      const length = segments.slice(0, 3).join('.').length;
      collector.add('jwt', start, start + length);
    }
    from = Math.max(end, start + 3);
  }
}

function isJwtHeader(segment: string): boolean {
  if (segment.length > 2048) return false;
  try {
    const header: unknown = JSON.parse(Buffer.from(segment, 'base64url').toString('utf8'));
    return (
      typeof header === 'object' && header !== null && typeof (header as { alg?: unknown }).alg === 'string'
    );
  } catch {
    return false;
  }
}

function collectUrlCredentials(text: string, collector: Collector): void {
  if (!text.includes('://')) return;
  for (const match of text.matchAll(URL_CREDENTIALS)) {
    if (collector.full()) return;
    const [, scheme, , password] = match;
    if (URL_PASSWORD_PLACEHOLDER.test(password!)) continue;
    const start = match.index + match[0].length - password!.length - 1;
    collector.add(
      WEB_SCHEMES.test(scheme!) ? 'url_password' : 'connection_string',
      start,
      start + password!.length,
    );
  }
}

// "Authorization: Basic dXNlcjpwYXNz": base64 of user:password.
function collectBasicAuth(text: string, collector: Collector): void {
  for (const match of text.matchAll(BASIC_AUTH)) {
    if (collector.full()) return;
    const encoded = match[1]!;
    const decoded = Buffer.from(encoded, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon <= 0 || colon === decoded.length - 1 || !/^[\x20-\x7e]+$/.test(decoded)) continue;
    const start = match.index + match[0].length - encoded.length;
    collector.add('basic_auth', start, start + encoded.length);
  }
}

function collectPaymentCards(text: string, collector: Collector): void {
  for (const match of text.matchAll(CARD_NUMBER)) {
    if (collector.full()) return;
    const digits = match[0].replace(/[ -]/g, '');
    if (digits.length < 13 || digits.length > 19 || !CARD_PREFIX.test(digits) || !luhnValid(digits)) continue;
    const end = match.index + match[0].length;
    const around = text.slice(Math.max(0, match.index - CARD_CONTEXT_WINDOW), end + CARD_CONTEXT_WINDOW);
    if (!CARD_CONTEXT.test(around)) continue;
    collector.add('payment_card', match.index, end);
  }
}

export function luhnValid(digits: string): boolean {
  let sum = 0;
  for (let i = 0; i < digits.length; i++) {
    let digit = digits.charCodeAt(digits.length - 1 - i) - 48;
    if (i % 2 === 1) {
      digit *= 2;
      if (digit > 9) digit -= 9;
    }
    sum += digit;
  }
  return sum % 10 === 0;
}

function collectAssignments(text: string, collector: Collector): void {
  for (const match of text.matchAll(CREDENTIAL_ASSIGNMENT)) {
    if (collector.full()) return;
    const separator = match[1]!;
    const value = match[2]!;
    if (PLACEHOLDER_VALUE.test(value)) continue;
    // After a colon, prose is common ("Password: use the one I sent"); only values that
    // look like a credential count there.
    if (separator === ':' && !/[\d\W_]/.test(value) && !/[a-z][A-Z]/.test(value)) continue;
    const start = match.index + match[0].length - value.length;
    collector.add('credential_assignment', start, start + value.length);
  }
}

// The base64 and base64url alphabets together.
function inTokenAlphabet(code: number): boolean {
  return isBase64UrlChar(code) || code === 0x2b || code === 0x2f;
}

// Runs of MIN_ENTROPY_RUN or more token characters, scanned with the same skip-ahead as
// encoded-payloads.ts: a run that long starting at or after i must cover position
// i + MIN_ENTROPY_RUN - 1, so when that one character is outside the alphabet the scan
// jumps a whole run length.
function collectHighEntropy(text: string, collector: Collector, budget: { decodes: number }): void {
  let i = 0;
  while (i + MIN_ENTROPY_RUN <= text.length && !collector.full()) {
    const probe = i + MIN_ENTROPY_RUN - 1;
    if (!inTokenAlphabet(text.charCodeAt(probe))) {
      i = probe + 1;
      continue;
    }
    let start = probe;
    while (start > i && inTokenAlphabet(text.charCodeAt(start - 1))) start -= 1;
    let end = probe;
    while (end < text.length && inTokenAlphabet(text.charCodeAt(end))) end += 1;
    for (let pad = 0; pad < 2 && text.charCodeAt(end) === 0x3d; pad++) end += 1;
    if (end - start >= MIN_ENTROPY_RUN) examineRun(text, start, end, collector, budget);
    i = end + 1;
  }
}

function examineRun(
  text: string,
  start: number,
  end: number,
  collector: Collector,
  budget: { decodes: number },
): void {
  if (end - start > MAX_ENTROPY_RUN || text.slice(Math.max(0, start - 7), start) === 'base64,') return;
  const run = text.slice(start, end);
  if (run.includes('/')) {
    let offset = start;
    for (const segment of run.split('/')) {
      if (segment.length >= MIN_ENTROPY_RUN) examineToken(segment, offset, collector, budget);
      offset += segment.length + 1;
    }
  }
  // A key that merely contains a slash or two (AWS secret keys do) is judged whole as
  // well; a path ("/docs/2024/...") only by its segments.
  if (!run.startsWith('/') && !run.includes('//') && run.split('/').length <= 3) {
    examineToken(run, start, collector, budget);
  }
}

function examineToken(token: string, start: number, collector: Collector, budget: { decodes: number }): void {
  const inner = secretInsideBase64(token, budget);
  if (inner !== null) {
    if (inner !== false) collector.add(inner, start, start + token.length);
    return;
  }
  if (looksRandom(token)) collector.add('high_entropy', start, start + token.length);
}

// Base64 that decodes to readable text is encoded text, not a key: it is only reported
// when the text inside it holds a secret. Returns the inner kind, false when the run is
// readable text without a secret, or null when it does not decode to text at all.
function secretInsideBase64(run: string, budget: { decodes: number }): SecretKind | null | false {
  if (budget.decodes <= 0 || !/^[A-Za-z0-9+/]+=*$/.test(run) || run.replace(/=+$/, '').length % 4 === 1)
    return null;
  budget.decodes -= 1;
  let decoded: string;
  try {
    decoded = new TextDecoder('utf-8', { fatal: true }).decode(Buffer.from(run, 'base64'));
  } catch {
    return null;
  }
  if (!/^[\x20-\x7e\s]+$/.test(decoded)) return null;
  return detectSecrets(decoded, { highEntropy: false, maxFindings: 1 })[0]?.kind ?? false;
}

// Random tokens: enough distinct characters for their length, and not made of words.
function looksRandom(token: string): boolean {
  if (UUID.test(token) || PREFIXED_IDENTIFIER.test(token)) return false;
  if (/^[0-9a-fA-F]+$/.test(token)) {
    if (token.length === 40 || token.length === 64) return false;
    return /\d/.test(token) && /[a-fA-F]/.test(token) && shannonEntropy(token) >= hexThreshold(token.length);
  }
  if (!/[A-Z]/.test(token) || !/[a-z]/.test(token) || !/\d/.test(token)) return false;
  if (wordCoverage(token) > 0.5) return false;
  return shannonEntropy(token) >= base64Threshold(token.length);
}

// Thresholds sit near the 2nd percentile of the entropy of uniformly random tokens of the
// same length (measured: 24 chars ~3.9 bits, 32 ~4.2, 40 ~4.45, 64 ~4.9 for a 62-letter
// alphabet; hex 24 ~3.0, 64 ~3.6), so almost every real random key passes.
function base64Threshold(length: number): number {
  return Math.min(5, 3.9 + 0.707 * (Math.log2(length) - Math.log2(24)));
}

function hexThreshold(length: number): number {
  return Math.min(3.7, 3.0 + 0.42 * (Math.log2(length) - Math.log2(24)));
}

export function shannonEntropy(value: string): number {
  const counts = new Map<string, number>();
  for (const ch of value) counts.set(ch, (counts.get(ch) ?? 0) + 1);
  let entropy = 0;
  for (const count of counts.values()) {
    const p = count / value.length;
    entropy -= p * Math.log2(p);
  }
  return entropy;
}

// Share of the token covered by word-like stretches ("Document", "final"). CamelCase
// names score well above half; random tokens rarely reach a fifth.
function wordCoverage(token: string): number {
  let covered = 0;
  for (const match of token.matchAll(/[A-Z]?[a-z]{3,}/g)) covered += match[0].length;
  return covered / token.length;
}
