// SSRF address policy: what kind of address an IP is, and whether a host string is an IP
// literal in disguise. Pure: no DNS. The caller resolves names and classifies every
// address the name resolves to.
//
// Classification looks through the IPv6 forms that carry an IPv4 address (IPv4-mapped,
// IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96 and 6to4 2002::/16), so
// "::ffff:7f00:1" is loopback exactly as 127.0.0.1 is. Anything that is not a valid
// address classifies as 'reserved': a caller that blocks everything but 'public' then
// fails closed.

import { isIPv4, isIPv6 } from 'node:net';

export type AddressClass =
  'public' | 'private' | 'loopback' | 'link_local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

type Ipv4Rule = readonly [network: string, prefix: number, cls: AddressClass];
type Ipv6Rule = readonly [network: string, prefix: number, cls: AddressClass];

// First match wins, so exact addresses come before the ranges that contain them.
const IPV4_RULES: readonly Ipv4Rule[] = Object.freeze([
  // Cloud instance metadata services: AWS/GCP/Azure/DigitalOcean, AWS ECS task metadata,
  // Alibaba Cloud, Oracle Cloud Classic.
  ['169.254.169.254', 32, 'metadata'],
  ['169.254.170.2', 32, 'metadata'],
  ['100.100.100.200', 32, 'metadata'],
  ['192.0.0.192', 32, 'metadata'],
  ['0.0.0.0', 8, 'unspecified'],
  ['10.0.0.0', 8, 'private'],
  // Carrier-grade NAT: not routable on the internet, often someone's internal network.
  ['100.64.0.0', 10, 'private'],
  ['127.0.0.0', 8, 'loopback'],
  ['169.254.0.0', 16, 'link_local'],
  ['172.16.0.0', 12, 'private'],
  ['192.0.0.0', 24, 'reserved'],
  ['192.0.2.0', 24, 'reserved'],
  ['192.88.99.0', 24, 'reserved'],
  ['192.168.0.0', 16, 'private'],
  ['198.18.0.0', 15, 'reserved'],
  ['198.51.100.0', 24, 'reserved'],
  ['203.0.113.0', 24, 'reserved'],
  ['224.0.0.0', 4, 'multicast'],
  ['240.0.0.0', 4, 'reserved'],
]);

const IPV6_RULES: readonly Ipv6Rule[] = Object.freeze([
  ['::', 128, 'unspecified'],
  ['::1', 128, 'loopback'],
  // AWS instance metadata over IPv6.
  ['fd00:ec2::254', 128, 'metadata'],
  // Local-use NAT64 (RFC 8215): translates into someone's own IPv4 space.
  ['64:ff9b:1::', 48, 'private'],
  // Discard-only, documentation, benchmarking, ORCHID.
  ['100::', 64, 'reserved'],
  ['2001:db8::', 32, 'reserved'],
  ['3fff::', 20, 'reserved'],
  ['2001:2::', 48, 'reserved'],
  ['2001:10::', 28, 'reserved'],
  ['2001:20::', 28, 'reserved'],
  // Teredo embeds an obfuscated IPv4 client; nothing a server needs to fetch from.
  ['2001::', 32, 'reserved'],
  ['fc00::', 7, 'private'],
  ['fe80::', 10, 'link_local'],
  // Site-local, deprecated but still routed by some stacks.
  ['fec0::', 10, 'private'],
  ['ff00::', 8, 'multicast'],
  ['2000::', 3, 'public'],
]);

export function classifyAddress(ip: string): AddressClass {
  const address = stripZone(ip.trim().replace(/^\[(.*)\]$/, '$1'));
  if (isIPv4(address)) return classifyIpv4(ipv4ToNumber(address));
  if (isIPv6(address)) return classifyIpv6(parseIpv6(address));
  return 'reserved';
}

// "fe80::1%eth0" names an interface after the address; the address decides the class.
function stripZone(address: string): string {
  const percent = address.indexOf('%');
  return percent >= 0 && address.includes(':') ? address.slice(0, percent) : address;
}

function classifyIpv4(value: number): AddressClass {
  for (const [network, prefix, cls] of IPV4_RULES) {
    if (inIpv4Range(value, ipv4ToNumber(network), prefix)) return cls;
  }
  return 'public';
}

function inIpv4Range(value: number, network: number, prefix: number): boolean {
  const mask = prefix === 0 ? 0 : (0xffffffff << (32 - prefix)) >>> 0;
  return (value & mask) >>> 0 === (network & mask) >>> 0;
}

function ipv4ToNumber(dotted: string): number {
  return dotted.split('.').reduce((acc, part) => acc * 256 + Number(part), 0);
}

function numberToIpv4(value: number): string {
  return [value >>> 24, (value >>> 16) & 0xff, (value >>> 8) & 0xff, value & 0xff].join('.');
}

function classifyIpv6(hextets: readonly number[]): AddressClass {
  const embedded = embeddedIpv4(hextets);
  if (embedded !== null) return classifyIpv4(embedded);
  for (const [network, prefix, cls] of IPV6_RULES) {
    if (inIpv6Range(hextets, parseIpv6(network), prefix)) return cls;
  }
  return 'reserved';
}

// The IPv4 address an IPv6 address stands for, when it is one of the forms that route
// to (or are treated as) that IPv4 address.
function embeddedIpv4(h: readonly number[]): number | null {
  const low32 = (h[6]! * 0x10000 + h[7]!) >>> 0;
  const zeroUpTo = (n: number): boolean => h.slice(0, n).every((x) => x === 0);
  // ::ffff:a.b.c.d, IPv4-mapped.
  if (zeroUpTo(5) && h[5] === 0xffff) return low32;
  // ::ffff:0:a.b.c.d, IPv4-translated (SIIT).
  if (zeroUpTo(4) && h[4] === 0xffff && h[5] === 0) return low32;
  // 64:ff9b::a.b.c.d, the well-known NAT64 prefix.
  if (h[0] === 0x64 && h[1] === 0xff9b && h.slice(2, 6).every((x) => x === 0)) return low32;
  // ::a.b.c.d, IPv4-compatible (deprecated); :: and ::1 themselves are not IPv4.
  if (zeroUpTo(6) && low32 > 1) return low32;
  // 2002:AABB:CCDD::/48, 6to4. Only a non-public embedded address changes the verdict.
  if (h[0] === 0x2002) {
    const inner = (h[1]! * 0x10000 + h[2]!) >>> 0;
    return classifyIpv4(inner) === 'public' ? null : inner;
  }
  return null;
}

function inIpv6Range(value: readonly number[], network: readonly number[], prefix: number): boolean {
  let bits = prefix;
  for (let i = 0; i < 8 && bits > 0; i++) {
    const take = Math.min(16, bits);
    const mask = (0xffff << (16 - take)) & 0xffff;
    if ((value[i]! & mask) !== (network[i]! & mask)) return false;
    bits -= take;
  }
  return true;
}

// Eight 16-bit groups of a valid IPv6 address (validated by isIPv6 beforehand).
function parseIpv6(address: string): number[] {
  let text = address.toLowerCase();
  const lastColon = text.lastIndexOf(':');
  const tail = text.slice(lastColon + 1);
  if (tail.includes('.')) {
    const v4 = ipv4ToNumber(tail);
    text = `${text.slice(0, lastColon + 1)}${(v4 >>> 16).toString(16)}:${(v4 & 0xffff).toString(16)}`;
  }
  const [head, rest] = text.includes('::') ? text.split('::') : [text, undefined];
  const left = head ? head.split(':').map((g) => parseInt(g, 16)) : [];
  if (rest === undefined) return left;
  const right = rest ? rest.split(':').map((g) => parseInt(g, 16)) : [];
  return [...left, ...new Array<number>(8 - left.length - right.length).fill(0), ...right];
}

// The WHATWG URL serialisation: lower-case hex without leading zeros, the first longest
// run of two or more zero groups written as "::".
function serialiseIpv6(hextets: readonly number[]): string {
  let bestStart = -1;
  let bestLength = 1;
  for (let i = 0; i < 8;) {
    if (hextets[i] !== 0) {
      i += 1;
      continue;
    }
    let j = i;
    while (j < 8 && hextets[j] === 0) j += 1;
    if (j - i > bestLength) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  const hex = hextets.map((h) => h.toString(16));
  if (bestStart < 0) return hex.join(':');
  return `${hex.slice(0, bestStart).join(':')}::${hex.slice(bestStart + bestLength).join(':')}`;
}

// Recognises a host that is an IP literal, in every spelling a WHATWG URL parser (and
// inet_aton) accepts, and returns its canonical form: dotted quad for IPv4, the URL
// serialisation for IPv6 (without brackets). Returns null for anything else: a domain
// name, or a numeric host no URL parser would accept ("256.1.1.1", "1.2.3.4.5"), which
// cannot be fetched either.
//
// Spellings covered: decimal (2130706433), octal (0177.0.0.1, 017700000001), hex
// (0x7f.0.0.1, 0x7f000001), shortened (127.1, 127.0.1), mixed, a trailing dot,
// percent-encoding (%31%32%37.0.0.1) and full-width digits and dots (１２７．０．０．１),
// which URL parsing folds before it reads the address.
export function parseHostLiteral(host: string): string | null {
  const trimmed = host.trim();
  if (trimmed.startsWith('[') && trimmed.endsWith(']')) return parseIpv6Literal(trimmed.slice(1, -1));
  if (trimmed.includes(':')) return parseIpv6Literal(trimmed);
  const folded = foldHost(trimmed);
  if (folded === null) return null;
  const value = parseIpv4Literal(folded);
  return value === null ? null : numberToIpv4(value);
}

// Convenience for callers with a host in hand: its class when it is an IP literal, null
// when it is a name that needs resolving first.
export function classifyHostLiteral(host: string): AddressClass | null {
  const literal = parseHostLiteral(host);
  return literal === null ? null : classifyAddress(literal);
}

function parseIpv6Literal(text: string): string | null {
  const address = stripZone(text.replace(/%25/i, '%'));
  return isIPv6(address) ? serialiseIpv6(parseIpv6(address)) : null;
}

// What URL host parsing does before it looks for an IPv4 address: percent-decode, fold
// compatibility characters (NFKC) and case, and treat the ideographic full stops as dots.
function foldHost(host: string): string | null {
  let decoded: string;
  try {
    decoded = decodeURIComponent(host);
  } catch {
    return null;
  }
  return decoded
    .normalize('NFKC')
    .toLowerCase()
    .replace(/[\u3002\uff0e\uff61]/g, '.');
}

// The WHATWG IPv4 parser. Returns the address as a 32-bit number, or null when the host
// does not end in a number (so it is a name) or is not a valid address.
function parseIpv4Literal(host: string): number | null {
  const parts = host.split('.');
  if (parts[parts.length - 1] === '' && parts.length > 1) parts.pop();
  if (parts.length === 0 || !isNumericPart(parts[parts.length - 1]!)) return null;
  if (parts.length > 4) return null;
  const numbers: number[] = [];
  for (const part of parts) {
    const n = parseIpv4Number(part);
    if (n === null) return null;
    numbers.push(n);
  }
  const last = numbers.pop()!;
  if (numbers.some((n) => n > 255)) return null;
  if (last >= 256 ** (4 - numbers.length)) return null;
  return numbers.reduce((acc, n, i) => acc + n * 256 ** (3 - i), last);
}

// "Ends in a number": all decimal digits, or a 0x number (possibly just "0x").
function isNumericPart(part: string): boolean {
  return /^\d+$/.test(part) || /^0x[0-9a-f]*$/.test(part);
}

// Decimal, 0x hex or leading-zero octal. Anything above 2^32 fails, which also keeps the
// arithmetic exact.
function parseIpv4Number(part: string): number | null {
  let digits = part;
  let radix = 10;
  if (/^0x/.test(digits)) {
    digits = digits.slice(2);
    radix = 16;
    if (digits === '') return 0;
  } else if (digits.length > 1 && digits.startsWith('0')) {
    digits = digits.slice(1);
    radix = 8;
  }
  const valid = radix === 16 ? /^[0-9a-f]+$/ : radix === 8 ? /^[0-7]+$/ : /^\d+$/;
  if (!valid.test(digits)) return null;
  const significant = digits.replace(/^0+(?=.)/, '');
  if (significant.length > 11) return null;
  const value = parseInt(significant, radix);
  return value > 0xffffffff ? null : value;
}
