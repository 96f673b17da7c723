import { expect } from 'chai';
import { buildIndex, parseAddress, parseHosts } from './hostsfile.js';

describe('hosts: hostsfile', () => {
  describe('parseAddress', () => {
    const cases: { field: string; want: ReturnType<typeof parseAddress> }[] = [
      { field: '10.0.0.1', want: { ip: '10.0.0.1', family: 4 } },
      { field: '::1', want: { ip: '::1', family: 6 } },
      { field: 'fe80::1%eth0', want: { ip: 'fe80::1', family: 6 } },
      { field: 'FDFC:A744:27B5:3B0E:0:0:0:1', want: { ip: 'fdfc:a744:27b5:3b0e::1', family: 6 } },
      { field: '::ffff:10.1.2.3', want: { ip: '10.1.2.3', family: 4 } },
      { field: '10.0.0.256', want: undefined },
      { field: 'example.org', want: undefined },
      { field: '10.0.0', want: undefined },
    ];
    for (const c of cases) {
      it(`${c.field} → ${c.want ? `${c.want.ip} (v${c.want.family})` : 'not an address'}`, () => {
        expect(parseAddress(c.field)).to.deep.equal(c.want);
      });
    }
  });

  describe('parseHosts', () => {
    const text = [
      '# a comment line',
      '127.0.0.1       localhost',
      '192.168.1.10    Example.COM.   example   # trailing comment',
      '::1             localhost ip6-localhost',
      'fe80::2%eth0    link.example.com',
      'bogus           skipped.example.com',
      '10.9.9.9',
      '   ',
      '10.0.0.1 other.org',
      '192.168.1.11 *.example.com',
    ].join('\n');

    it('reads names, lower-cased, for every zone when the origin is the root', () => {
      const m = parseHosts(text, [''], true);
      expect(Object.fromEntries(m.v4)).to.deep.equal({
        localhost: ['127.0.0.1'],
        'example.com': ['192.168.1.10'],
        example: ['192.168.1.10'],
        'other.org': ['10.0.0.1'],
        '*.example.com': ['192.168.1.11'],
      });
      expect(Object.fromEntries(m.v6)).to.deep.equal({
        localhost: ['::1'], 'ip6-localhost': ['::1'], 'link.example.com': ['fe80::2'],
      });
      expect(m.addr.get('192.168.1.10')).to.deep.equal(['example.com', 'example']);
      expect(m.addr.has('192.168.1.11'), 'no PTR for a wildcard owner').to.equal(false);
    });

    it('keeps only names inside the origins', () => {
      const m = parseHosts(text, ['example.com'], true);
      expect([...m.v4.keys()]).to.deep.equal(['example.com', '*.example.com']);
      expect([...m.v6.keys()]).to.deep.equal(['link.example.com']);
    });

    it('builds no reverse map with no_reverse', () => {
      expect(parseHosts(text, [''], false).addr.size).to.equal(0);
    });
  });

  describe('buildIndex', () => {
    it('concatenates file then inline entries and prebuilds A, AAAA and PTR records', () => {
      const file = parseHosts('10.0.0.1 a.example.org\n::1 a.example.org', ['example.org'], true);
      const inline = parseHosts('10.0.0.2 a.example.org\n10.0.0.1 b.example.org', ['example.org'], true);
      const idx = buildIndex([file, inline], 30);
      expect(idx.names.get('a.example.org')!.a.map((r) => r.data)).to.deep.equal(['10.0.0.1', '10.0.0.2']);
      expect(idx.names.get('a.example.org')!.aaaa).to.deep.equal([{ name: 'a.example.org', ttl: 30, type: 'AAAA', data: '::1' }]);
      expect(idx.ptr.get('1.0.0.10.in-addr.arpa')!.map((r) => r.data)).to.deep.equal(['a.example.org', 'b.example.org']);
      expect(idx.ptr.has(`1.0.0.0.${'0.'.repeat(27)}0.ip6.arpa`)).to.equal(true);
      expect(idx.size).to.equal(4 + 4);
      expect(idx.wildcards).to.equal(false);
    });
  });
});
