// Handler-level tests over an in-memory tree: CoreDNS's etcd lookup table, and our additions.
import { expect } from 'chai';
import { messageOf, Rcode, type Message, type ResourceRecord } from '../../core/message.js';
import { DnsError } from '../../core/plugin.js';
import { makeRequest, rr, rrText, stubNext } from '../../core/testing.js';
import { EtcdHandler } from './etcd.js';
import type { Resolve } from './lookup.js';
import { keyOf, parseService } from './msg.js';
import { ServiceTree } from './store.js';

type Value = Record<string, unknown>;

function treeOf(entries: [string, Value][], path = '/skydns'): ServiceTree {
  const tree = new ServiceTree(path);
  for (const [name, v] of entries) tree.set(parseService(keyOf(name, path), JSON.stringify(v)));
  return tree;
}

// CoreDNS's plugin/etcd lookup_test.go services, keys written as names.
const SERVICES: [string, Value][] = [
  ['a.server1.dev.region1.skydns.test', { host: 'dev.server1', port: 8080 }],
  ['a.server1.prod.region1.skydns.test', { host: '10.0.0.1', port: 8080 }],
  ['b.server1.prod.region1.skydns.test', { host: '10.0.0.2', port: 8080 }],
  ['b.server6.prod.region1.skydns.test', { host: '::1', port: 8080 }],
  ['cname.prod.region1.skydns.test', { host: 'unresolvable.skydns.test' }],
  ['priority.skydns.test', { host: 'priority.server1', priority: 333, port: 8080 }],
  ['a.sub.region1.skydns.test', { host: 'sub.server1', port: 0 }],
  ['b.sub.region1.skydns.test', { host: 'sub.server2', port: 80 }],
  ['c.sub.region1.skydns.test', { host: '10.0.0.1', port: 8080 }],
  ['b.cname.skydns.test', { host: 'a.cname.skydns.test' }],
  ['a.cname.skydns.test', { host: 'b.cname.skydns.test' }],
  ['a.ns.dns.skydns.test', { host: '10.0.0.2' }],
  ['b.ns.dns.skydns.test', { host: '10.0.0.3' }],
  ['x.skydns_zonea.test', { host: '10.0.0.2' }],
  ['y.skydns_zonea.test', { host: '10.0.0.3' }],
  ['x.skydns_zoneb.test', { host: '10.0.0.2' }],
  ['y.skydns_zoneb.test', { host: '10.0.0.3' }],
  ['apex.dns.skydns_zoneb.test', { host: '10.0.0.4' }],
  ['x.skydns_zonec.test', { host: '10.0.0.2' }],
  ['y.skydns_zonec.test', { host: '10.0.0.3' }],
  ['a1.apex.dns.skydns_zonec.test', { host: '10.0.0.4' }],
  ['a2.apex.dns.skydns_zonec.test', { host: '10.0.0.5' }],
  ['x.skydns_zoned.test', { host: '10.0.0.2' }],
  ['a1.apex.dns.skydns_zoned.test', { host: '10.0.0.4' }],
  ['a3.apex.dns.skydns_zoned.test', { host: '2003::8:1' }],
  ['a4.apex.dns.skydns_zoned.test', { host: '2003::8:2' }],
  ['1.0.0.10.in-addr.arpa', { host: 'reverse.example.com' }],
  // Our additions.
  ['txt.skydns.test', { text: 'hello world', ttl: 60 }],
  ['mail.skydns.test', { host: 'mx1.example.net', priority: 10, mail: true }],
  ['m1.mailip.skydns.test', { host: '10.0.1.1', priority: 20, mail: true }],
  ['alias.skydns.test', { host: 'a.server1.prod.region1.skydns.test' }],
  ['ext.skydns.test', { host: 'www.example.net' }],
  ['w1.weights.skydns.test', { host: '10.0.2.1', port: 80, weight: 30 }],
  ['w2.weights.skydns.test', { host: '10.0.2.2', port: 80, weight: 10 }],
  ['w3.weights.skydns.test', { host: '10.0.2.3', port: 80, priority: 20 }],
  ['a.grp.skydns.test', { host: '10.0.3.1', group: 'g1' }],
  ['b.x.grp.skydns.test', { host: '10.0.3.2', group: 'g2' }],
  ['c.x.grp.skydns.test', { host: '10.0.3.3', group: 'g1' }],
  ['d.x.grp.skydns.test', { host: '10.0.3.4' }],
  ['strip.skydns.test', { host: '10.0.4.1', port: 53, targetstrip: 1 }],
  ['long.skydns.test', { text: 'x'.repeat(300) }],
];

const SOA_TEST = 'skydns.test. 30 IN SOA ns.dns.skydns.test. hostmaster.skydns.test. 7 7200 1800 86400 30';

interface Case {
  name: string;
  qname: string;
  qtype: string;
  rcode?: number;
  answer?: string[];
  ns?: string[];
  extra?: string[];
}

const CASES: Case[] = [
  { name: 'SRV to a name', qname: 'a.server1.dev.region1.skydns.test', qtype: 'SRV', answer: ['a.server1.dev.region1.skydns.test. 300 IN SRV 10 100 8080 dev.server1.'] },
  { name: 'NXDOMAIN', qname: 'doesnotexist.skydns.test', qtype: 'A', rcode: Rcode.NXDOMAIN, ns: [SOA_TEST] },
  { name: 'A', qname: 'a.server1.prod.region1.skydns.test', qtype: 'A', answer: ['a.server1.prod.region1.skydns.test. 300 IN A 10.0.0.1'] },
  {
    name: 'SRV to an address', qname: 'a.server1.prod.region1.skydns.test', qtype: 'SRV',
    answer: ['a.server1.prod.region1.skydns.test. 300 IN SRV 10 100 8080 a.server1.prod.region1.skydns.test.'],
    extra: ['a.server1.prod.region1.skydns.test. 300 IN A 10.0.0.1'],
  },
  { name: 'AAAA', qname: 'b.server6.prod.region1.skydns.test', qtype: 'AAAA', answer: ['b.server6.prod.region1.skydns.test. 300 IN AAAA ::1'] },
  {
    name: 'a name with children answers all below it', qname: 'server1.prod.region1.skydns.test', qtype: 'A',
    answer: ['server1.prod.region1.skydns.test. 300 IN A 10.0.0.1', 'server1.prod.region1.skydns.test. 300 IN A 10.0.0.2'],
  },
  { name: 'priority', qname: 'priority.skydns.test', qtype: 'SRV', answer: ['priority.skydns.test. 300 IN SRV 333 100 8080 priority.server1.'] },
  {
    name: 'several keys give several SRV', qname: 'sub.region1.skydns.test', qtype: 'SRV',
    answer: [
      'sub.region1.skydns.test. 300 IN SRV 10 33 0 sub.server1.',
      'sub.region1.skydns.test. 300 IN SRV 10 33 80 sub.server2.',
      'sub.region1.skydns.test. 300 IN SRV 10 33 8080 c.sub.region1.skydns.test.',
    ],
    extra: ['c.sub.region1.skydns.test. 300 IN A 10.0.0.1'],
  },
  { name: 'CNAME to an unresolvable name in the zone', qname: 'cname.prod.region1.skydns.test', qtype: 'A', ns: [SOA_TEST] },
  {
    name: 'wildcard *', qname: '*.region1.skydns.test', qtype: 'SRV',
    answer: [
      '*.region1.skydns.test. 300 IN SRV 10 12 0 sub.server1.',
      '*.region1.skydns.test. 300 IN SRV 10 12 0 unresolvable.skydns.test.',
      '*.region1.skydns.test. 300 IN SRV 10 12 80 sub.server2.',
      '*.region1.skydns.test. 300 IN SRV 10 12 8080 a.server1.prod.region1.skydns.test.',
      '*.region1.skydns.test. 300 IN SRV 10 12 8080 b.server1.prod.region1.skydns.test.',
      '*.region1.skydns.test. 300 IN SRV 10 12 8080 b.server6.prod.region1.skydns.test.',
      '*.region1.skydns.test. 300 IN SRV 10 12 8080 c.sub.region1.skydns.test.',
      '*.region1.skydns.test. 300 IN SRV 10 12 8080 dev.server1.',
    ],
    extra: [
      'a.server1.prod.region1.skydns.test. 300 IN A 10.0.0.1',
      'b.server1.prod.region1.skydns.test. 300 IN A 10.0.0.2',
      'b.server6.prod.region1.skydns.test. 300 IN AAAA ::1',
      'c.sub.region1.skydns.test. 300 IN A 10.0.0.1',
    ],
  },
  ...['*', 'any'].map((w): Case => ({
    name: `wildcard ${w} in the middle`, qname: `prod.${w}.skydns.test`, qtype: 'SRV',
    answer: [
      `prod.${w}.skydns.test. 300 IN SRV 10 25 0 unresolvable.skydns.test.`,
      `prod.${w}.skydns.test. 300 IN SRV 10 25 8080 a.server1.prod.region1.skydns.test.`,
      `prod.${w}.skydns.test. 300 IN SRV 10 25 8080 b.server1.prod.region1.skydns.test.`,
      `prod.${w}.skydns.test. 300 IN SRV 10 25 8080 b.server6.prod.region1.skydns.test.`,
    ],
    extra: [
      'a.server1.prod.region1.skydns.test. 300 IN A 10.0.0.1',
      'b.server1.prod.region1.skydns.test. 300 IN A 10.0.0.2',
      'b.server6.prod.region1.skydns.test. 300 IN AAAA ::1',
    ],
  })),
  { name: 'CNAME loop', qname: 'a.cname.skydns.test', qtype: 'A', ns: [SOA_TEST] },
  { name: 'NODATA (TXT)', qname: 'a.server1.dev.region1.skydns.test', qtype: 'TXT', ns: [SOA_TEST] },
  { name: 'NODATA (HINFO)', qname: 'a.server1.dev.region1.skydns.test', qtype: 'HINFO', ns: [SOA_TEST] },
  { name: 'NXDOMAIN (HINFO)', qname: 'a.server1.nonexistent.region1.skydns.test', qtype: 'HINFO', rcode: Rcode.NXDOMAIN, ns: [SOA_TEST] },
  { name: 'SOA at the apex', qname: 'skydns.test', qtype: 'SOA', answer: [SOA_TEST] },
  {
    name: 'NS at the apex', qname: 'skydns.test', qtype: 'NS',
    answer: ['skydns.test. 300 IN NS a.ns.dns.skydns.test.', 'skydns.test. 300 IN NS b.ns.dns.skydns.test.'],
    extra: ['a.ns.dns.skydns.test. 300 IN A 10.0.0.2', 'b.ns.dns.skydns.test. 300 IN A 10.0.0.3'],
  },
  { name: 'NS below the apex', qname: 'a.skydns.test', qtype: 'NS', rcode: Rcode.NXDOMAIN, ns: [SOA_TEST] },
  { name: 'A of the name servers', qname: 'ns.dns.skydns.test', qtype: 'A', answer: ['ns.dns.skydns.test. 300 IN A 10.0.0.2', 'ns.dns.skydns.test. 300 IN A 10.0.0.3'] },
  { name: 'zone apex: all records below', qname: 'skydns_zonea.test', qtype: 'A', answer: ['skydns_zonea.test. 300 IN A 10.0.0.2', 'skydns_zonea.test. 300 IN A 10.0.0.3'] },
  { name: 'zone apex: apex.dns', qname: 'skydns_zoneb.test', qtype: 'A', answer: ['skydns_zoneb.test. 300 IN A 10.0.0.4'] },
  { name: 'zone apex: several apex.dns', qname: 'skydns_zonec.test', qtype: 'A', answer: ['skydns_zonec.test. 300 IN A 10.0.0.4', 'skydns_zonec.test. 300 IN A 10.0.0.5'] },
  { name: 'zone apex: AAAA', qname: 'skydns_zoned.test', qtype: 'AAAA', answer: ['skydns_zoned.test. 300 IN AAAA 2003::8:1', 'skydns_zoned.test. 300 IN AAAA 2003::8:2'] },
  { name: 'PTR', qname: '1.0.0.10.in-addr.arpa', qtype: 'PTR', answer: ['1.0.0.10.in-addr.arpa. 300 IN PTR reverse.example.com.'] },
  { name: 'TXT', qname: 'txt.skydns.test', qtype: 'TXT', answer: ['txt.skydns.test. 60 IN TXT "hello world"'] },
  { name: 'a text-only name has no A', qname: 'txt.skydns.test', qtype: 'A', ns: [SOA_TEST] },
  { name: 'TXT over 255 bytes is split', qname: 'long.skydns.test', qtype: 'TXT', answer: [`long.skydns.test. 300 IN TXT "${'x'.repeat(255)}" "${'x'.repeat(45)}"`] },
  { name: 'MX to a name', qname: 'mail.skydns.test', qtype: 'MX', answer: ['mail.skydns.test. 300 IN MX 10 mx1.example.net.'] },
  {
    name: 'MX to an address', qname: 'mailip.skydns.test', qtype: 'MX',
    answer: ['mailip.skydns.test. 300 IN MX 20 m1.mailip.skydns.test.'], extra: ['m1.mailip.skydns.test. 300 IN A 10.0.1.1'],
  },
  { name: 'MX needs mail: true', qname: 'a.server1.prod.region1.skydns.test', qtype: 'MX', ns: [SOA_TEST] },
  {
    name: 'CNAME chased inside the zone', qname: 'alias.skydns.test', qtype: 'A',
    answer: ['alias.skydns.test. 300 IN CNAME a.server1.prod.region1.skydns.test.', 'a.server1.prod.region1.skydns.test. 300 IN A 10.0.0.1'],
  },
  { name: 'CNAME query', qname: 'alias.skydns.test', qtype: 'CNAME', answer: ['alias.skydns.test. 300 IN CNAME a.server1.prod.region1.skydns.test.'] },
  { name: 'CNAME query of an address', qname: 'a.server1.prod.region1.skydns.test', qtype: 'CNAME', ns: [SOA_TEST] },
  {
    name: 'CNAME outside the zone resolved through the server', qname: 'ext.skydns.test', qtype: 'A',
    answer: ['ext.skydns.test. 300 IN CNAME www.example.net.', 'www.example.net. 60 IN A 192.0.2.80'],
  },
  {
    name: 'SRV weights split within a priority', qname: 'weights.skydns.test', qtype: 'SRV',
    answer: [
      'weights.skydns.test. 300 IN SRV 10 75 80 w1.weights.skydns.test.',
      'weights.skydns.test. 300 IN SRV 10 25 80 w2.weights.skydns.test.',
      'weights.skydns.test. 300 IN SRV 20 100 80 w3.weights.skydns.test.',
    ],
    extra: ['w1.weights.skydns.test. 300 IN A 10.0.2.1', 'w2.weights.skydns.test. 300 IN A 10.0.2.2', 'w3.weights.skydns.test. 300 IN A 10.0.2.3'],
  },
  // The shortest key with a group (a, g1) sets it: c (g1) and d (none) stay, b (g2) goes.
  { name: 'group', qname: 'grp.skydns.test', qtype: 'A', answer: ['grp.skydns.test. 300 IN A 10.0.3.1', 'grp.skydns.test. 300 IN A 10.0.3.3', 'grp.skydns.test. 300 IN A 10.0.3.4'] },
  { name: 'targetstrip', qname: 'strip.skydns.test', qtype: 'SRV', answer: ['strip.skydns.test. 300 IN SRV 10 100 53 skydns.test.'], extra: ['skydns.test. 300 IN A 10.0.4.1'] },
  { name: 'an empty zone apex is NODATA', qname: 'skydns_extra.test', qtype: 'A', ns: ['skydns_extra.test. 30 IN SOA ns.dns.skydns_extra.test. hostmaster.skydns_extra.test. 7 7200 1800 86400 30'] },
];

const ZONES = ['skydns.test', 'skydns_extra.test', 'skydns_zonea.test', 'skydns_zoneb.test', 'skydns_zonec.test', 'skydns_zoned.test', 'in-addr.arpa'];

const resolveStub: Resolve = async (name, type) =>
  name === 'www.example.net' && type === 'A' ? [rr`www.example.net. 60 IN A 192.0.2.80`] : undefined;

function handler(fall?: string[]): EtcdHandler {
  return new EtcdHandler(ZONES, fall, { tree: treeOf(SERVICES), revision: 7, synced: true }, resolveStub);
}

const texts = (rrs: readonly ResourceRecord[]): string[] => rrs.map(rrText).sort();

async function ask(h: EtcdHandler, qname: string, qtype: string): Promise<{ reply: Message; nextCalls: number }> {
  const req = makeRequest(qname, qtype);
  const next = stubNext(req);
  const reply = messageOf(await h.serve(req, next));
  return { reply, nextCalls: next.calls };
}

describe('etcd handler (CoreDNS lookup table)', () => {
  const h = handler();
  for (const c of CASES) {
    it(c.name, async () => {
      const { reply } = await ask(h, c.qname, c.qtype);
      expect(reply.rcode, 'rcode').to.equal(c.rcode ?? Rcode.NOERROR);
      expect(reply.aa, 'aa').to.equal(true);
      expect(texts(reply.answer), 'answer').to.deep.equal([...(c.answer ?? [])].sort());
      expect(texts(reply.authority), 'authority').to.deep.equal([...(c.ns ?? [])].sort());
      expect(texts(reply.additional), 'additional').to.deep.equal([...(c.extra ?? [])].sort());
    });
  }

  it('answers the same from its memo the second time', async () => {
    const first = await ask(h, 'server1.prod.region1.skydns.test', 'A');
    const second = await ask(h, 'server1.prod.region1.skydns.test', 'A');
    expect(texts(second.reply.answer)).to.deep.equal(texts(first.reply.answer));
  });

  it('passes names outside its zones to the next plugin', async () => {
    const { nextCalls } = await ask(h, 'example.org', 'A');
    expect(nextCalls).to.equal(1);
  });
});

describe('etcd handler: fallthrough, readiness, bad data', () => {
  it('falls through on NXDOMAIN only', async () => {
    const h = handler([]);
    expect((await ask(h, 'doesnotexist.skydns.test', 'A')).nextCalls).to.equal(1);
    const nodata = await ask(h, 'txt.skydns.test', 'A');
    expect(nodata.nextCalls).to.equal(0);
    expect(nodata.reply.rcode).to.equal(Rcode.NOERROR);
  });

  it('falls through only for the listed zones', async () => {
    const h = handler(['skydns_zonea.test']);
    expect((await ask(h, 'nope.skydns_zonea.test', 'A')).nextCalls).to.equal(1);
    expect((await ask(h, 'nope.skydns.test', 'A')).reply.rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('answers SERVFAIL (throws) before the mirror has loaded', () => {
    const h = new EtcdHandler(ZONES, undefined, { tree: new ServiceTree('/skydns'), revision: 0, synced: false });
    const req = makeRequest('a.skydns.test', 'A');
    expect(() => h.serve(req, stubNext(req))).to.throw(DnsError);
  });

  it('SERVFAILs an NS set that points at a name', async () => {
    const tree = treeOf([['a.ns.dns.bad.test', { host: 'ns.example.net' }]]);
    const h = new EtcdHandler(['bad.test'], undefined, { tree, revision: 1, synced: true });
    const req = makeRequest('bad.test', 'NS');
    let err: unknown;
    try {
      await h.serve(req, stubNext(req));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DnsError);
    expect((err as DnsError).rcode).to.equal(Rcode.SERVFAIL);
  });

  it('sees a change only after invalidate()', async () => {
    const tree = treeOf([['a.chg.test', { host: '10.9.0.1' }]]);
    const h = new EtcdHandler(['chg.test'], undefined, { tree, revision: 1, synced: true });
    expect(texts((await ask(h, 'a.chg.test', 'A')).reply.answer)).to.deep.equal(['a.chg.test. 300 IN A 10.9.0.1']);
    tree.set(parseService(keyOf('a.chg.test', '/skydns'), '{"host":"10.9.0.2"}'));
    h.invalidate();
    expect(texts((await ask(h, 'a.chg.test', 'A')).reply.answer)).to.deep.equal(['a.chg.test. 300 IN A 10.9.0.2']);
  });
});
