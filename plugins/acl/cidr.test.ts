// acl's address parsing and CIDR matching (CoreDNS TestNormalize's rows among them).
import { expect } from 'chai';
import { contains, parseAddress, parseIPv4, parseIPv6, parseNet } from './cidr.js';

const hex = (w: number | readonly number[] | undefined) => (w === undefined ? undefined : [w].flat().map((x) => x.toString(16).padStart(8, '0')).join(' '));

describe('acl: addresses', () => {
  const v4: [string, number | undefined][] = [
    ['10.218.10.8', 0x0ada0a08], ['0.0.0.0', 0], ['128.0.0.1', 0x80000001], ['255.255.255.255', 0xffffffff],
    ['256.0.0.1', undefined], ['1.2.3', undefined], ['1.2.3.4.5', undefined], ['01.2.3.4', undefined], ['1..2.3', undefined], ['1.2.3.4 ', undefined], ['', undefined],
  ];
  for (const [text, want] of v4) it(`IPv4 ${JSON.stringify(text)}`, () => expect(parseIPv4(text)).to.equal(want));

  const v6: [string, string | undefined][] = [
    ['2001:db8:85a3::8a2e:370:7334', '20010db8 85a30000 00008a2e 03707334'],
    ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '20010db8 85a30000 00008a2e 03707334'],
    ['::', '00000000 00000000 00000000 00000000'], ['::1', '00000000 00000000 00000000 00000001'], ['fe80::', 'fe800000 00000000 00000000 00000000'],
    ['::ffff:192.0.2.1', '00000000 00000000 0000ffff c0000201'],
    ['2001::85a3::8a2e:370:7334', undefined], ['2001:db8:85a3:::8a2e:370:7334', undefined], ['1:2:3:4:5:6:7', undefined],
    ['1:2:3:4:5:6:7:8:9', undefined], ['12345::', undefined], ['g::', undefined],
  ];
  for (const [text, want] of v6) it(`IPv6 ${text}`, () => expect(hex(parseIPv6(text))).to.equal(want));

  it('a client address: IPv4-mapped as IPv4, a %zone ignored', () => {
    expect(hex(parseAddress('::ffff:127.0.0.1'))).to.equal('7f000001');
    expect(hex(parseAddress('fe80::1%eth0'))).to.equal('fe800000 00000000 00000000 00000001');
    expect(parseAddress('not-an-ip')).to.equal(undefined);
  });

  // CoreDNS TestNormalize: a single address is a /32 or /128.
  const nets: [string, string | undefined][] = [
    ['10.218.10.8/24', '0ada0a08/24'], ['10.218.10.8', '0ada0a08/32'], ['2001:0db8:85a3:0000:0000:8a2e:0370:7334', '20010db8 85a30000 00008a2e 03707334/128'],
    ['0.0.0.0/0', '00000000/0'], ['192.168.0/16', undefined], ['192.168.0.0/33', undefined], ['::/129', undefined], ['fe80::1%eth0', undefined], ['10.0.0.0/x', undefined],
  ];
  for (const [text, want] of nets) {
    it(`net ${text}`, () => {
      const n = parseNet(text);
      expect(n ? `${hex(n.address)}/${n.prefix}` : undefined).to.equal(want);
    });
  }

  const matches: [string, string, boolean][] = [
    ['192.168.0.0/16', '192.168.255.1', true], ['192.168.0.0/16', '192.169.0.1', false], ['10.0.0.0/8', '10.255.255.255', true],
    ['0.0.0.0/0', '8.8.8.8', true], ['192.168.1.2', '192.168.1.2', true], ['192.168.1.2', '192.168.1.3', false],
    ['2001:db8:abcd:0012::0/64', '2001:db8:abcd:12:ffff::1', true], ['2001:db8:abcd:0012::0/64', '2001:db8:abcd:13::', false],
    ['2001:db8:abcd:0012:8000::/66', '2001:db8:abcd:12:8000::1', true], ['2001:db8:abcd:0012:8000::/66', '2001:db8:abcd:12:4000::1', false],
    ['::/0', '2001:db8::1', true], ['::/0', '10.0.0.1', false], ['0.0.0.0/0', '2001:db8::1', false],
    ['10.0.0.0/8', '::ffff:10.1.2.3', true],
  ];
  for (const [net, address, want] of matches) {
    it(`${address} is ${want ? '' : 'not '}in ${net}`, () => expect(contains(parseNet(net)!, parseAddress(address)!)).to.equal(want));
  }
});
