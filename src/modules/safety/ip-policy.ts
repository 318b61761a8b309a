// SSRF address policy: what kind of address an IP is. Pure: no DNS. The caller resolves
// names and classifies every address the name resolves to. Host literals in disguise
// (0x7f.1, 2130706433, １２７．０．０．１) need no code here: the WHATWG URL parser that reads
// every fetched URL already turns them into the canonical address (ip-policy.test.ts).
//
// Classification looks through the IPv6 forms that carry an IPv4 address (IPv4-mapped,
// IPv4-translated, IPv4-compatible, NAT64 64:ff9b::/96 and 6to4 2002::/16), so
// "::ffff:7f00:1" is loopback exactly as 127.0.0.1 is. Anything that is not a valid
// address classifies as 'reserved': a caller that blocks everything but 'public' then
// fails closed.

import ipaddr from 'ipaddr.js';
import { isIP } from 'node:net';

export type AddressClass =
  'public' | 'private' | 'loopback' | 'link_local' | 'metadata' | 'unspecified' | 'multicast' | 'reserved';

type Ranges = Partial<Record<AddressClass, readonly string[]>>;

// Matched in this order of classes, first match wins, so the exact metadata addresses come
// before the link-local and private ranges that contain them, and IPv6's reserved blocks
// before the global unicast block (2000::/3) they sit in.
const IPV4: Ranges = {
  // Cloud instance metadata services: AWS/GCP/Azure/DigitalOcean, AWS ECS task metadata,
  // Alibaba Cloud, Oracle Cloud Classic.
  metadata: ['169.254.169.254/32', '169.254.170.2/32', '100.100.100.200/32', '192.0.0.192/32'],
  unspecified: ['0.0.0.0/8'],
  loopback: ['127.0.0.0/8'],
  link_local: ['169.254.0.0/16'],
  // Carrier-grade NAT (100.64/10): not routable on the internet, often someone's internal network.
  private: ['10.0.0.0/8', '100.64.0.0/10', '172.16.0.0/12', '192.168.0.0/16'],
  multicast: ['224.0.0.0/4'],
  reserved: [
    '192.0.0.0/24',
    '192.0.2.0/24',
    '192.88.99.0/24',
    '198.18.0.0/15',
    '198.51.100.0/24',
    '203.0.113.0/24',
    '240.0.0.0/4',
  ],
};

const IPV6: Ranges = {
  // AWS instance metadata over IPv6.
  metadata: ['fd00:ec2::254/128'],
  unspecified: ['::/128'],
  loopback: ['::1/128'],
  link_local: ['fe80::/10'],
  // Local-use NAT64 (RFC 8215) translates into someone's own IPv4 space; site-local
  // (fec0::/10) is deprecated but still routed by some stacks.
  private: ['64:ff9b:1::/48', 'fc00::/7', 'fec0::/10'],
  multicast: ['ff00::/8'],
  // Discard-only, documentation (two), benchmarking, ORCHID (two), and Teredo, which
  // embeds an obfuscated IPv4 client: nothing a server needs to fetch from.
  reserved: [
    '100::/64',
    '2001:db8::/32',
    '3fff::/20',
    '2001:2::/48',
    '2001:10::/28',
    '2001:20::/28',
    '2001::/32',
  ],
  public: ['2000::/3'],
};

const rangeList = (ranges: Ranges) =>
  Object.fromEntries(
    Object.entries(ranges).map(([cls, cidrs]) => [cls, cidrs.map((c) => ipaddr.parseCIDR(c))]),
  );
const IPV4_RANGES = rangeList(IPV4);
const IPV6_RANGES = rangeList(IPV6);

export function classifyAddress(ip: string): AddressClass {
  const text = ip.trim().replace(/^\[(.*)\]$/, '$1');
  // ipaddr.js also reads inet_aton spellings ("127.1"); an address here must be canonical.
  if (!isIP(text)) return 'reserved';
  const address = ipaddr.parse(text);
  return address.kind() === 'ipv4'
    ? classifyIpv4(address as ipaddr.IPv4)
    : classifyIpv6(address as ipaddr.IPv6);
}

function classifyIpv4(address: ipaddr.IPv4): AddressClass {
  return ipaddr.subnetMatch(address, IPV4_RANGES, 'public') as AddressClass;
}

function classifyIpv6(address: ipaddr.IPv6): AddressClass {
  const embedded = embeddedIpv4(address);
  if (embedded) return classifyIpv4(embedded);
  return ipaddr.subnetMatch(address, IPV6_RANGES, 'reserved') as AddressClass;
}

// IPv6 prefixes whose last 32 bits are the IPv4 address the packet reaches: IPv4-mapped
// (::ffff:a.b.c.d), IPv4-translated (::ffff:0:a.b.c.d, SIIT) and the well-known NAT64 prefix.
const CARRIES_IPV4 = ['::ffff:0:0/96', '::ffff:0:0:0/96', '64:ff9b::/96'].map((c) =>
  ipaddr.IPv6.parseCIDR(c),
);
const SIX_TO_FOUR = ipaddr.IPv6.parseCIDR('2002::/16');

// The IPv4 address an IPv6 address stands for, when it is one of the forms that route to
// (or are treated as) that IPv4 address.
function embeddedIpv4(address: ipaddr.IPv6): ipaddr.IPv4 | null {
  const bytes = address.toByteArray();
  const low = new ipaddr.IPv4(bytes.slice(12));
  if (CARRIES_IPV4.some((range) => address.match(range))) return low;
  if (address.match(SIX_TO_FOUR)) {
    // 2002:AABB:CCDD::/48. Only a non-public embedded address changes the verdict.
    const inner = new ipaddr.IPv4(bytes.slice(2, 6));
    return classifyIpv4(inner) === 'public' ? null : inner;
  }
  // ::a.b.c.d, IPv4-compatible (deprecated); :: and ::1 themselves are not IPv4.
  const lowValue = bytes.slice(12).reduce((value, byte) => value * 256 + byte, 0);
  return bytes.slice(0, 12).every((byte) => byte === 0) && lowValue > 1 ? low : null;
}
