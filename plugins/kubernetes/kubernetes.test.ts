import { expect } from 'chai';
import { extendedErrors } from '../../core/edns.js';
import { makeReply, messageOf, Rcode, type Message, type Reply } from '../../core/message.js';
import { makeRequest, rrText, stubNext } from '../../core/testing.js';
import { http80, pod, service, slice } from '../../test/fixtures/k8s-objects.js';
import { ask, handler, loadedIndex } from '../../test/fixtures/k8s-handler.js';
import { ServiceIndex } from './service-index.js';

const SOA = 'cluster.local. 5 IN SOA ns.dns.cluster.local. hostmaster.cluster.local. SERIAL 7200 1800 86400 5';

const texts = (rrs: Message['answer']) => rrs.map(rrText).map((t) => t.replace(/ SOA (\S+ \S+) \d+ /, ' SOA $1 SERIAL ')).sort();

interface Case {
  q: string;
  type: string;
  rcode?: number;
  answer?: string[];
  extra?: string[];
  /** Expect the SOA in the authority section (negative answers). */
  soa?: boolean;
}

const cases: Case[] = [
  { q: 'svc1.testns.svc.cluster.local', type: 'A', answer: ['svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1'] },
  { q: 'SVC1.TestNS.svc.cluster.local', type: 'A', answer: ['SVC1.TestNS.svc.cluster.local. 5 IN A 10.0.0.1'] },
  { q: 'svcempty.testns.svc.cluster.local', type: 'A', answer: ['svcempty.testns.svc.cluster.local. 5 IN A 10.0.0.2'] },
  { q: 'svc1.testns.svc.cluster.local', type: 'AAAA', soa: true },
  { q: 'svc6.testns.svc.cluster.local', type: 'AAAA', answer: ['svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1'] },
  { q: 'dual.testns.svc.cluster.local', type: 'A', answer: ['dual.testns.svc.cluster.local. 5 IN A 10.0.0.3'] },
  { q: 'dual.testns.svc.cluster.local', type: 'AAAA', answer: ['dual.testns.svc.cluster.local. 5 IN AAAA fd00::3'] },
  { q: 'svc0.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'svc0.testns.svc.cluster.local', type: 'AAAA', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'svc1.nons.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  // SRV, ClusterIP: target is the service, glue in additional.
  { q: 'svc1.testns.svc.cluster.local', type: 'SRV', answer: ['svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local.'], extra: ['svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1'] },
  { q: '_http._tcp.svc1.testns.svc.cluster.local', type: 'SRV', answer: ['_http._tcp.svc1.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc1.testns.svc.cluster.local.'], extra: ['svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1'] },
  { q: '_http._tcp.svc6.testns.svc.cluster.local', type: 'SRV', answer: ['_http._tcp.svc6.testns.svc.cluster.local. 5 IN SRV 0 100 80 svc6.testns.svc.cluster.local.'], extra: ['svc6.testns.svc.cluster.local. 5 IN AAAA 1234:abcd::1'] },
  // Dual-stack: 2 ports x 2 IPs = 4 items, weight 25, two SRV after de-duplication.
  {
    q: 'dual.testns.svc.cluster.local', type: 'SRV',
    answer: ['dual.testns.svc.cluster.local. 5 IN SRV 0 25 53 dual.testns.svc.cluster.local.', 'dual.testns.svc.cluster.local. 5 IN SRV 0 25 80 dual.testns.svc.cluster.local.'],
    extra: ['dual.testns.svc.cluster.local. 5 IN A 10.0.0.3', 'dual.testns.svc.cluster.local. 5 IN AAAA fd00::3'],
  },
  { q: '_dns._udp.dual.testns.svc.cluster.local', type: 'SRV', answer: ['_dns._udp.dual.testns.svc.cluster.local. 5 IN SRV 0 50 53 dual.testns.svc.cluster.local.'], extra: ['dual.testns.svc.cluster.local. 5 IN A 10.0.0.3', 'dual.testns.svc.cluster.local. 5 IN AAAA fd00::3'] },
  { q: '_dns._tcp.dual.testns.svc.cluster.local', type: 'SRV', rcode: Rcode.NXDOMAIN, soa: true },
  { q: '*._not-udp-or-tcp.svc1.testns.svc.cluster.local', type: 'SRV', rcode: Rcode.NXDOMAIN, soa: true },
  // Headless: every ready address, de-duplicated; the not-ready 172.0.0.9 is absent.
  {
    q: 'hdls1.testns.svc.cluster.local', type: 'A',
    answer: ['172.0.0.2', '172.0.0.3', '172.0.0.4', '172.0.0.5'].map((ip) => `hdls1.testns.svc.cluster.local. 5 IN A ${ip}`),
  },
  { q: 'hdls1.testns.svc.cluster.local', type: 'AAAA', answer: ['5678:abcd::1', '5678:abcd::2'].map((ip) => `hdls1.testns.svc.cluster.local. 5 IN AAAA ${ip}`) },
  { q: 'hdlsnone.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'hdlsprtls.testns.svc.cluster.local', type: 'A', answer: ['hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20'] },
  { q: 'hdlsprtls.testns.svc.cluster.local', type: 'SRV', soa: true },
  { q: '172-0-0-20.hdlsprtls.testns.svc.cluster.local', type: 'A', answer: ['172-0-0-20.hdlsprtls.testns.svc.cluster.local. 5 IN A 172.0.0.20'] },
  { q: '172-0-0-2.hdls1.testns.svc.cluster.local', type: 'A', answer: ['172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2'] },
  { q: '172-0-0-9.hdls1.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'dup-name.hdls1.testns.svc.cluster.local', type: 'A', answer: ['172.0.0.4', '172.0.0.5'].map((ip) => `dup-name.hdls1.testns.svc.cluster.local. 5 IN A ${ip}`) },
  { q: '5678-abcd--2.hdls1.testns.svc.cluster.local', type: 'AAAA', answer: ['5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2'] },
  { q: 'bogusendpoint.hdls1.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'bogusendpoint.svc0.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  // An endpoint name of a ClusterIP service (an extension beyond the spec, as CoreDNS has it).
  { q: 'ep1a.svc1.testns.svc.cluster.local', type: 'A', answer: ['ep1a.svc1.testns.svc.cluster.local. 5 IN A 172.0.0.1'] },
  // Headless SRV: 6 items (dup-name has two IPs) → weight floor(100/6) = 16, one SRV per target, glue per address.
  {
    q: '_http._tcp.hdls1.testns.svc.cluster.local', type: 'SRV',
    answer: ['172-0-0-2', '172-0-0-3', '5678-abcd--1', '5678-abcd--2', 'dup-name'].map((h) => `_http._tcp.hdls1.testns.svc.cluster.local. 5 IN SRV 0 16 80 ${h}.hdls1.testns.svc.cluster.local.`),
    extra: [
      '172-0-0-2.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.2', '172-0-0-3.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.3',
      '5678-abcd--1.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::1', '5678-abcd--2.hdls1.testns.svc.cluster.local. 5 IN AAAA 5678:abcd::2',
      'dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.4', 'dup-name.hdls1.testns.svc.cluster.local. 5 IN A 172.0.0.5',
    ],
  },
  // ExternalName
  { q: 'external.testns.svc.cluster.local', type: 'CNAME', answer: ['external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.'] },
  { q: 'external-to-service.testns.svc.cluster.local', type: 'A', answer: ['external-to-service.testns.svc.cluster.local. 5 IN CNAME svc1.testns.svc.cluster.local.', 'svc1.testns.svc.cluster.local. 5 IN A 10.0.0.1'] },
  { q: 'external.testns.svc.cluster.local', type: 'SRV', soa: true },
  { q: 'ep.external.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'external.testns.svc.cluster.local', type: 'A', soa: true }, // the upstream fails: CoreDNS drops the CNAME
  // Schema, apex, structure
  { q: 'dns-version.cluster.local', type: 'TXT', answer: ['dns-version.cluster.local. 28800 IN TXT "1.1.0"'] },
  { q: 'svc1.testns.svc.cluster.local', type: 'TXT', soa: true },
  { q: 'svc0.testns.svc.cluster.local', type: 'TXT', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'cluster.local', type: 'A', soa: true },
  { q: 'cluster.local', type: 'SOA', answer: [SOA] },
  { q: 'cluster.local', type: 'NS', answer: ['cluster.local. 5 IN NS ns.dns.cluster.local.'], extra: ['ns.dns.cluster.local. 5 IN A 10.0.0.53'] },
  { q: 'ns.dns.cluster.local', type: 'A', answer: ['ns.dns.cluster.local. 5 IN A 10.0.0.53'] },
  { q: 'ns.dns.cluster.local', type: 'AAAA', soa: true },
  { q: 'foo.cluster.local', type: 'NS', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'svc.cluster.local', type: 'A', soa: true },
  { q: 'pod.cluster.local', type: 'A', soa: true },
  { q: 'testns.svc.cluster.local', type: 'A', soa: true },
  { q: 'nons.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'svc1.testns.svc.cluster.local', type: 'MX', soa: true },
  { q: 'a.b.c.d.svc1.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: 'svc1.testns.foo.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: '*.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true },
  { q: '1-2-3-4.testns.pod.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN, soa: true }, // pods disabled
  // PTR
  { q: '1.0.0.10.in-addr.arpa', type: 'PTR', answer: ['1.0.0.10.in-addr.arpa. 5 IN PTR svc1.testns.svc.cluster.local.'] },
  { q: '2.0.0.172.in-addr.arpa', type: 'PTR', answer: ['2.0.0.172.in-addr.arpa. 5 IN PTR 172-0-0-2.hdls1.testns.svc.cluster.local.'] },
  { q: '4.0.0.172.in-addr.arpa', type: 'PTR', answer: ['4.0.0.172.in-addr.arpa. 5 IN PTR dup-name.hdls1.testns.svc.cluster.local.'] },
  { q: '9.0.0.172.in-addr.arpa', type: 'PTR', rcode: Rcode.NXDOMAIN },
  {
    q: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa', type: 'PTR',
    answer: ['1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.c.b.a.8.7.6.5.ip6.arpa. 5 IN PTR 5678-abcd--1.hdls1.testns.svc.cluster.local.'],
  },
  { q: '3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa', type: 'PTR', answer: ['3.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.d.f.ip6.arpa. 5 IN PTR dual.testns.svc.cluster.local.'] },
  { q: '1.0.0.10.in-addr.arpa', type: 'A', rcode: Rcode.NXDOMAIN },
  { q: '10.in-addr.arpa', type: 'PTR', rcode: Rcode.NXDOMAIN },
  { q: 'in-addr.arpa', type: 'PTR', soa: false, rcode: Rcode.NOERROR },
];

describe('kubernetes handler: records per form', () => {
  const h = handler(loadedIndex());
  for (const c of cases) {
    it(`${c.q} ${c.type} → ${c.answer ? `${c.answer.length} record(s)` : c.rcode === Rcode.NXDOMAIN ? 'NXDOMAIN' : 'NODATA'}`, async () => {
      const m = await ask(h, c.q, c.type);
      expect(m.rcode).to.equal(c.rcode ?? Rcode.NOERROR);
      expect(m.aa).to.equal(true);
      expect(texts(m.answer)).to.deep.equal([...(c.answer ?? [])].sort());
      if (c.extra) expect(texts(m.additional)).to.deep.equal([...c.extra].sort());
      if (c.soa || c.rcode === Rcode.NXDOMAIN) {
        expect(m.authority).to.have.length(1);
        expect(m.authority[0]!.type).to.equal('SOA');
      }
    });
  }

  it('puts the zone SOA with TTL min(ttl, 300) and minimum ttl in negative answers', async () => {
    const m = await ask(handler(loadedIndex(), { ttl: 600 }), 'nothing.testns.svc.cluster.local', 'A');
    expect(texts(m.authority)[0]).to.match(/^cluster\.local\. 300 IN SOA ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. SERIAL 7200 1800 86400 600$/);
  });
});

describe('kubernetes handler: options', () => {
  it('ignore empty_service: a ClusterIP service without ready endpoints is NXDOMAIN', async () => {
    const h = handler(loadedIndex(), { ignoreEmptyService: true });
    expect((await ask(h, 'svcempty.testns.svc.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, 'svc1.testns.svc.cluster.local', 'A')).answer).to.have.length(1);
  });

  it('namespaces: services of other namespaces do not exist', async () => {
    const index = loadedIndex();
    index.apply('namespaces', 'add', { metadata: { name: 'other' } });
    index.apply('services', 'add', service('other', 'web', { clusterIPs: ['10.0.9.9'], ports: http80 }));
    const h = handler(index, { namespaces: new Set(['testns']) });
    expect((await ask(h, 'web.other.svc.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, '9.9.0.10.in-addr.arpa', 'PTR')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, 'svc1.testns.svc.cluster.local', 'A')).answer).to.have.length(1);
  });

  it('endpoint_pod_names names an endpoint without hostname by its pod', async () => {
    const index = new ServiceIndex({ endpointPodNames: true });
    index.apply('namespaces', 'add', { metadata: { name: 'ns' } });
    index.apply('services', 'add', service('ns', 'web', { ports: http80 }));
    index.apply('endpointslices', 'add', slice('ns', 'web-1', 'web', [{ ip: '10.1.0.5', pod: 'web-7d9f' }, { ip: '10.1.0.6', pod: 'web-xyz', hostname: 'named' }], http80));
    index.markSynced();
    const h = handler(index);
    expect(texts((await ask(h, 'web-7d9f.web.ns.svc.cluster.local', 'A')).answer)).to.deep.equal(['web-7d9f.web.ns.svc.cluster.local. 5 IN A 10.1.0.5']);
    expect(texts((await ask(h, 'named.web.ns.svc.cluster.local', 'A')).answer)).to.deep.equal(['named.web.ns.svc.cluster.local. 5 IN A 10.1.0.6']);
    expect((await ask(h, '10-1-0-5.web.ns.svc.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('pods insecure answers any parsable address in an existing namespace', async () => {
    const h = handler(loadedIndex(), { podMode: 'insecure' });
    expect(texts((await ask(h, '1-2-3-4.testns.pod.cluster.local', 'A')).answer)).to.deep.equal(['1-2-3-4.testns.pod.cluster.local. 5 IN A 1.2.3.4']);
    expect(texts((await ask(h, 'fd00--1.testns.pod.cluster.local', 'AAAA')).answer)).to.deep.equal(['fd00--1.testns.pod.cluster.local. 5 IN AAAA fd00::1']);
    expect((await ask(h, '1-2-3-4.testns.pod.cluster.local', 'AAAA')).rcode).to.equal(Rcode.NOERROR);
    expect((await ask(h, 'not-an-ip.testns.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, '1-2-3-4.nons.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, 'testns.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NOERROR);
  });

  it('pods verified answers only for a pod with that address in that namespace', async () => {
    const index = loadedIndex();
    index.apply('pods', 'add', pod('testns', 'p1', '10.244.0.7'));
    const h = handler(index, { podMode: 'verified' });
    expect((await ask(h, '10-244-0-7.testns.pod.cluster.local', 'A')).answer).to.have.length(1);
    expect((await ask(h, '10-244-0-8.testns.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
    index.apply('pods', 'delete', pod('testns', 'p1', '10.244.0.7'));
    expect((await ask(h, '10-244-0-7.testns.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('fallthrough passes NXDOMAIN names of the listed zones to the next plugin, and only those', async () => {
    const h = handler(loadedIndex(), { fall: ['in-addr.arpa'] });
    const req = makeRequest('9.9.9.10.in-addr.arpa', 'PTR');
    const next = stubNext(req, makeReply(req.query, { rcode: Rcode.REFUSED }));
    expect(messageOf(await h.serve(req, next)).rcode).to.equal(Rcode.REFUSED);
    expect(next.calls).to.equal(1);
    const req2 = makeRequest('svc0.testns.svc.cluster.local', 'A');
    const next2 = stubNext(req2);
    expect(messageOf(await h.serve(req2, next2)).rcode).to.equal(Rcode.NXDOMAIN);
    expect(next2.calls).to.equal(0);
  });

  it('passes names outside its zones to the next plugin', async () => {
    const h = handler(loadedIndex());
    const req = makeRequest('example.org', 'A');
    const next = stubNext(req);
    await h.serve(req, next);
    expect(next.calls).to.equal(1);
  });

  const labels = ['client-namespace', 'client-pod-name', 'endpoint', 'kind', 'namespace', 'port-name', 'protocol', 'service'];
  const metadataRows: { name: string; q: string; client: string; podMode: 'disabled' | 'verified'; want: Record<string, string | undefined> }[] = [
    {
      name: 'an SRV name, the client a known pod (pods verified)', q: '_http._tcp.svc1.testns.svc.cluster.local', client: '10.244.0.5', podMode: 'verified',
      want: { 'client-namespace': 'testns', 'client-pod-name': 'web-0', endpoint: '', kind: 'svc', namespace: 'testns', 'port-name': 'http', protocol: 'tcp', service: 'svc1' },
    },
    {
      name: 'an endpoint name, the client on a dual-stack socket', q: 'ep-1.svc1.testns.svc.cluster.local', client: '::ffff:10.244.0.5', podMode: 'verified',
      want: { 'client-namespace': 'testns', 'client-pod-name': 'web-0', endpoint: 'ep-1', kind: 'svc', namespace: 'testns', 'port-name': '', protocol: '', service: 'svc1' },
    },
    {
      name: 'an unknown client; a name that is not a record shape', q: 'a.b.c.d.cluster.local', client: '10.9.9.9', podMode: 'verified',
      want: { 'client-namespace': undefined, 'client-pod-name': undefined, endpoint: '', kind: '', namespace: '', 'port-name': '', protocol: '', service: '' },
    },
    {
      name: 'pods not indexed: no client labels; outside the zones: no name labels', q: 'example.org', client: '10.244.0.5', podMode: 'disabled',
      want: { 'client-namespace': undefined, 'client-pod-name': undefined, endpoint: undefined, kind: undefined, namespace: undefined, 'port-name': undefined, protocol: undefined, service: undefined },
    },
  ];
  for (const row of metadataRows) {
    it(`metadata (CoreDNS's labels): ${row.name}`, () => {
      const index = loadedIndex();
      index.apply('pods', 'add', pod('testns', 'web-0', '10.244.0.5'));
      const h = handler(index, { podMode: row.podMode });
      const req = makeRequest(row.q, 'SRV', { clientAddress: row.client });
      h.metadata(req);
      const got = Object.fromEntries(labels.map((l) => [l, req.metadata.get(`kubernetes/${l}`)]));
      expect(got).to.deep.equal(row.want);
    });
  }

  it('metadata: a pod deleted or moved to another IP is no longer the client', () => {
    const index = loadedIndex();
    index.apply('pods', 'add', pod('testns', 'web-0', '10.244.0.5'));
    index.apply('pods', 'update', pod('testns', 'web-0', '10.244.0.6'));
    expect(index.podWithIP('10.244.0.5')).to.equal(undefined);
    expect(index.podWithIP('10.244.0.6')).to.deep.equal({ namespace: 'testns', name: 'web-0' });
    index.apply('pods', 'delete', pod('testns', 'web-0', '10.244.0.6'));
    expect(index.podWithIP('10.244.0.6')).to.equal(undefined);
  });

  it('answers SERVFAIL (with the SOA) instead of NXDOMAIN while unsynced, and ready() reports sync', async () => {
    const index = new ServiceIndex();
    index.apply('namespaces', 'add', { metadata: { name: 'testns' } });
    index.apply('services', 'add', service('testns', 'svc1', { clusterIPs: ['10.0.0.1'], ports: http80 }));
    const h = handler(index);
    expect(h.ready()).to.equal(false);
    const m = await ask(h, 'svc0.testns.svc.cluster.local', 'A');
    expect(m.rcode).to.equal(Rcode.SERVFAIL);
    expect(m.authority[0]!.type).to.equal('SOA');
    expect(extendedErrors(m.edns?.options), 'RFC 8914 Not Ready').to.deep.equal([{ infoCode: 14, extraText: 'kubernetes: not yet synced with the API' }]);
    expect((await ask(h, 'svc1.testns.svc.cluster.local', 'A')).answer).to.have.length(1);
    index.markSynced();
    expect(h.ready()).to.equal(true);
    expect((await ask(h, 'svc0.testns.svc.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('resolves an out-of-zone ExternalName target through the server and carries TC over', async () => {
    const seen: string[] = [];
    const resolve = async (q: Message): Promise<Reply> => {
      seen.push(`${q.question[0]!.name} ${q.question[0]!.type}`);
      return { ...makeReply(q, { answer: [{ name: 'ext.interwebs.test', ttl: 30, type: 'A', data: '192.0.2.1' }] }), tc: true };
    };
    const h = handler(loadedIndex(), { resolve });
    const m = await ask(h, 'external.testns.svc.cluster.local', 'A');
    expect(seen).to.deep.equal(['ext.interwebs.test A']);
    expect(texts(m.answer)).to.deep.equal(['ext.interwebs.test. 30 IN A 192.0.2.1', 'external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.']);
    expect(m.answer[0]!.type).to.equal('CNAME');
    expect(m.tc).to.equal(true);
  });

  it('stops an ExternalName CNAME loop', async () => {
    const index = loadedIndex();
    index.apply('services', 'add', service('testns', 'loop', { type: 'ExternalName', externalName: 'loop.testns.svc.cluster.local' }));
    const m = await ask(handler(index), 'loop.testns.svc.cluster.local', 'A');
    expect(m.rcode).to.equal(Rcode.NOERROR);
    expect(m.answer).to.have.length(0);
  });

  it('refuses zone transfers', async () => {
    expect((await ask(handler(loadedIndex()), 'cluster.local', 'AXFR')).rcode).to.equal(Rcode.REFUSED);
  });
});
