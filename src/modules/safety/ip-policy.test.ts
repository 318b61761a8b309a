import fc from 'fast-check';
import { BlockList } from 'node:net';
import { describe, expect, it } from 'vitest';
import { hostOf } from '../../platform/http/safe-fetch.ts';
import { classifyAddress, type AddressClass } from './ip-policy.ts';

describe('classifyAddress: IPv4', () => {
  it.each<[string, AddressClass]>([
    ['8.8.8.8', 'public'],
    ['93.184.215.14', 'public'],
    ['10.1.2.3', 'private'],
    ['172.16.0.1', 'private'],
    ['172.31.255.255', 'private'],
    ['172.32.0.1', 'public'],
    ['192.168.1.1', 'private'],
    ['100.64.0.1', 'private'],
    ['100.127.255.255', 'private'],
    ['100.128.0.1', 'public'],
    ['127.0.0.1', 'loopback'],
    ['127.255.255.254', 'loopback'],
    ['169.254.169.254', 'metadata'],
    ['169.254.170.2', 'metadata'],
    ['100.100.100.200', 'metadata'],
    ['169.254.1.1', 'link_local'],
    ['0.0.0.0', 'unspecified'],
    ['0.1.2.3', 'unspecified'],
    ['224.0.0.1', 'multicast'],
    ['239.255.255.250', 'multicast'],
    ['240.0.0.1', 'reserved'],
    ['255.255.255.255', 'reserved'],
    ['192.0.2.10', 'reserved'],
    ['198.18.0.1', 'reserved'],
    ['203.0.113.5', 'reserved'],
  ])('when the address is %s, then it is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it('when compared with node:net BlockList over random addresses, then the private ranges agree', () => {
    const privateRanges = new BlockList();
    privateRanges.addSubnet('10.0.0.0', 8);
    privateRanges.addSubnet('172.16.0.0', 12);
    privateRanges.addSubnet('192.168.0.0', 16);
    privateRanges.addSubnet('100.64.0.0', 10);
    const metadata = new Set(['100.100.100.200']);
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        if (metadata.has(ip)) return;
        expect(classifyAddress(ip) === 'private').toBe(privateRanges.check(ip, 'ipv4'));
      }),
      { numRuns: 2000 },
    );
  });
});

describe('classifyAddress: IPv6', () => {
  it.each<[string, AddressClass]>([
    ['2606:4700:4700::1111', 'public'],
    ['::', 'unspecified'],
    ['::1', 'loopback'],
    ['[::1]', 'loopback'],
    ['::ffff:127.0.0.1', 'loopback'],
    ['::ffff:7f00:1', 'loopback'],
    ['::ffff:10.0.0.1', 'private'],
    ['::ffff:8.8.8.8', 'public'],
    ['::ffff:0:7f00:1', 'loopback'],
    ['::127.0.0.1', 'loopback'],
    ['64:ff9b::10.0.0.5', 'private'],
    ['64:ff9b::a9fe:a9fe', 'metadata'],
    ['64:ff9b::808:808', 'public'],
    ['64:ff9b:1::1', 'private'],
    ['2002:7f00:1::1', 'loopback'],
    ['2002:808:808::1', 'public'],
    ['fd00:ec2::254', 'metadata'],
    ['fd12:3456::1', 'private'],
    ['fc00::1', 'private'],
    ['fe80::1', 'link_local'],
    ['fe80::1%eth0', 'link_local'],
    ['febf::1', 'link_local'],
    ['fec0::1', 'private'],
    ['ff02::1', 'multicast'],
    ['2001:db8::1', 'reserved'],
    ['2001:0:4136:e378:8000:63bf:3fff:fdd2', 'reserved'],
    ['100::1', 'reserved'],
    ['3fff::1', 'reserved'],
    ['4000::1', 'reserved'],
  ])('when the address is %s, then it is %s', (ip, expected) => {
    expect(classifyAddress(ip)).toBe(expected);
  });

  it.each(['', 'localhost', '1.2.3', '256.1.1.1', ':::', 'example.test'])(
    'when %j is not an address, then it fails closed as reserved',
    (ip) => {
      expect(classifyAddress(ip)).toBe('reserved');
    },
  );
});

// Hosts reach classifyAddress through URL parsing (safe-fetch's hostOf(new URL(...))), and
// the WHATWG URL parser folds every IP literal spelling into the canonical address first.
describe('disguised IP literals, as safe-fetch sees them', () => {
  const classifyUrlHost = (host: string) => classifyAddress(hostOf(new URL(`http://${host}/`)));

  it.each([
    '127.0.0.1',
    '2130706433',
    '0177.0.0.1',
    '017700000001',
    '0x7f.0.0.1',
    '0x7F000001',
    '127.1',
    '127.0.1',
    '0x7f.1',
    '127.0.0.1.',
    '%31%32%37.0.0.1',
    '１２７．０．０．１',
    '127。0。0。1',
    '[::1]',
    '[0:0:0:0:0:ffff:127.0.0.1]',
    '[::ffff:0:7f00:1]',
    '[::127.0.0.1]',
  ])('when the host is spelt %s, then it is loopback', (host) => {
    expect(classifyUrlHost(host)).toBe('loopback');
  });

  it.each([
    '0xa9fea9fe',
    '2852039166',
    '169.254.43518',
    '[FD00:EC2:0:0:0:0:0:254]',
    '[64:ff9b::169.254.169.254]',
  ])('when the host is spelt %s, then it is the metadata service', (host) => {
    expect(classifyUrlHost(host)).toBe('metadata');
  });

  it('when the host is a name, then it is no address and classifies as reserved until DNS answers', () => {
    expect(classifyUrlHost('127.0.0.1.nip.io')).toBe('reserved');
  });

  it('when random IPv4 numbers are written as one decimal, then the class is that of the dotted address', () => {
    fc.assert(
      fc.property(fc.ipV4(), (ip) => {
        const decimal = ip.split('.').reduce((value, octet) => value * 256 + Number(octet), 0);
        expect(classifyUrlHost(String(decimal))).toBe(classifyAddress(ip));
      }),
      { numRuns: 2000 },
    );
  });
});
