import { expect } from 'chai';
import { bytesToIPv6, canonicalIP, cidrToReverseZones, ipFromReverseName, ipv6ToBytes, reverseName } from './ip.js';
import { fallsThrough, isInZone, matchZone, normalizeZone, stripZone } from './zones.js';

describe('ip', () => {
  const reverse = [
    { ip: '10.0.0.1', name: '1.0.0.10.in-addr.arpa' },
    { ip: '2001:db8::1', name: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa' },
  ];
  for (const { ip, name } of reverse) {
    it(`${ip} <-> ${name}`, () => {
      expect(reverseName(ip)).to.equal(name);
      expect(ipFromReverseName(`${name}.`)).to.equal(ip);
    });
  }
  it('refuses partial reverse names', () => {
    expect(ipFromReverseName('0.10.in-addr.arpa')).to.equal(undefined);
    expect(ipFromReverseName('300.0.0.10.in-addr.arpa')).to.equal(undefined);
  });

  const canonical = [
    ['2001:0db8:0000:0000:0000:0000:0000:0001', '2001:db8::1'],
    ['::', '::'],
    ['1:0:0:1:0:0:0:1', '1:0:0:1::1'],
    ['fe80::1%eth0', 'fe80::1'],
    ['10.1.2.3', '10.1.2.3'],
    ['not-an-ip', undefined],
  ] as const;
  for (const [input, want] of canonical) it(`canonicalIP(${input}) = ${want}`, () => expect(canonicalIP(input)).to.equal(want));

  it('round-trips IPv6 bytes', () => expect(bytesToIPv6(ipv6ToBytes('fd00:1:2::ff'))).to.equal('fd00:1:2::ff'));

  const cidrs = [
    { cidr: '10.0.0.0/8', want: ['10.in-addr.arpa'] },
    { cidr: '10.0.0.0/24', want: ['0.0.10.in-addr.arpa'] },
    { cidr: '10.0.0.0/30', want: ['0.0.0.10.in-addr.arpa', '1.0.0.10.in-addr.arpa', '2.0.0.10.in-addr.arpa', '3.0.0.10.in-addr.arpa'] },
    { cidr: '10.96.0.0/12', want: Array.from({ length: 16 }, (_, i) => `${96 + i}.10.in-addr.arpa`) },
    { cidr: 'fd00::/8', want: ['d.f.ip6.arpa'] },
    { cidr: '10.0.0.0/33', want: undefined },
  ];
  for (const { cidr, want } of cidrs) it(`cidrToReverseZones(${cidr})`, () => expect(cidrToReverseZones(cidr)).to.deep.equal(want));
});

describe('zones', () => {
  it('normalises names', () => {
    expect(normalizeZone('Example.ORG.')).to.equal('example.org');
    expect(normalizeZone('.')).to.equal('');
  });
  const inZone = [
    ['a.example.org', 'example.org', true],
    ['example.org', 'example.org', true],
    ['badexample.org', 'example.org', false],
    ['org', 'example.org', false],
    ['anything', '', true],
  ] as const;
  for (const [name, zone, want] of inZone) it(`isInZone(${name}, ${zone || '.'}) = ${want}`, () => expect(isInZone(name, zone)).to.equal(want));

  it('matches the longest zone', () => {
    expect(matchZone('a.b.example.org', ['', 'example.org', 'b.example.org'])).to.equal('b.example.org');
    expect(matchZone('a.test', ['example.org'])).to.equal(undefined);
  });
  it('strips the zone', () => {
    expect(stripZone('a.b.example.org', 'example.org')).to.equal('a.b');
    expect(stripZone('example.org', 'example.org')).to.equal('');
  });
  it('falls through as configured', () => {
    expect(fallsThrough(undefined, 'a.b')).to.equal(false);
    expect(fallsThrough([], 'a.b')).to.equal(true);
    expect(fallsThrough(['in-addr.arpa'], '1.0.0.10.in-addr.arpa')).to.equal(true);
    expect(fallsThrough(['in-addr.arpa'], 'a.cluster.local')).to.equal(false);
  });
});
