// k8s_external end to end: a server fed by the API stand-in, load-balancer hostnames resolved through forward
// to a real dnsmasq. Rows follow CoreDNS's plugin/k8s_external/external_test.go and apex_test.go.
import { expect } from 'chai';
import { rrText, startServer, type TestServer } from '../core/testing.js';
import type { KService } from '../plugins/kubernetes/objects.js';
import { startDnsmasq, type Dnsmasq } from './fixtures/dnsmasq.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { http80, namespace, service, slice } from './fixtures/k8s-objects.js';

/** A Service as the API serves it, with externalIPs and a load-balancer status. */
function external(name: string, spec: Record<string, unknown>, ingress: Record<string, string>[] = []): KService {
  return {
    apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: 'testns' },
    spec: { type: 'ClusterIP', clusterIP: '10.0.0.9', clusterIPs: ['10.0.0.9'], ports: http80, ...spec },
    ...(ingress.length ? { status: { loadBalancer: { ingress } } } : {}),
  } as KService;
}

describe('k8s_external (CoreDNS external_test.go, apex_test.go)', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let dnsmasq: Dnsmasq;
  let server: TestServer;
  let fallServer: TestServer;

  before(async () => {
    dnsmasq = await startDnsmasq({ args: ['--address=/lb.cloud.test/203.0.113.7', '--address=/other.example.com/198.51.100.1'], probe: 'lb.cloud.test' });
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('testns'));
    api.add('services',
      external('svc1', { externalIPs: ['1.2.3.4'] }),
      external('svc6', { externalIPs: ['1:2::5'] }),
      external('lb', { type: 'LoadBalancer' }, [{ ip: '192.0.2.80' }]),
      external('lbname', { type: 'LoadBalancer' }, [{ hostname: 'lb.cloud.test' }]),
      service('testns', 'internal', { clusterIPs: ['10.0.0.5'], ports: http80 }),
      service('testns', 'headless', { ports: http80 }));
    api.add('endpointslices', slice('testns', 'headless-1', 'headless', [{ ip: '10.244.0.5', hostname: 'web-0' }], http80));
    const upstream = `  forward . 127.0.0.1:${dnsmasq.port}\n`;
    server = await startServer(`. {\n  k8s_external example.com {\n    headless\n    ttl 7\n  }\n  kubernetes cluster.local {\n    endpoint ${api.url}\n  }\n${upstream}}\n`);
    fallServer = await startServer(`. {\n  k8s_external example.com {\n    fallthrough\n  }\n  kubernetes cluster.local {\n    endpoint ${api.url}\n  }\n${upstream}}\n`);
  });

  after(async () => {
    await server?.close();
    await fallServer?.close();
    await api?.close();
    await dnsmasq?.stop();
  });

  const SOA = 'example.com. 7 IN SOA ns1.dns.example.com. hostmaster.dns.example.com.';
  const rows: { name: string; q: string; type: string; rcode: number; answer?: string[]; extra?: string[]; soa?: boolean }[] = [
    { name: 'externalIPs: A', q: 'svc1.testns.example.com', type: 'A', rcode: 0, answer: ['svc1.testns.example.com. 7 IN A 1.2.3.4'] },
    { name: 'externalIPs: AAAA of an IPv4-only Service is NODATA', q: 'svc1.testns.example.com', type: 'AAAA', rcode: 0, soa: true },
    { name: 'externalIPs: AAAA', q: 'svc6.testns.example.com', type: 'AAAA', rcode: 0, answer: ['svc6.testns.example.com. 7 IN AAAA 1:2::5'] },
    { name: 'SRV with glue', q: '_http._tcp.svc1.testns.example.com', type: 'SRV', rcode: 0, answer: ['_http._tcp.svc1.testns.example.com. 5 IN SRV 0 100 80 svc1.testns.example.com.'], extra: ['svc1.testns.example.com. 7 IN A 1.2.3.4'] },
    { name: 'SRV of a port that does not exist is NXDOMAIN', q: '_dns._udp.svc1.testns.example.com', type: 'SRV', rcode: 3, soa: true },
    { name: 'LoadBalancer ingress IP', q: 'lb.testns.example.com', type: 'A', rcode: 0, answer: ['lb.testns.example.com. 7 IN A 192.0.2.80'] },
    { name: 'LoadBalancer ingress hostname: CNAME and its address from upstream', q: 'lbname.testns.example.com', type: 'A', rcode: 0, answer: ['lbname.testns.example.com. 5 IN CNAME lb.cloud.test.', 'lb.cloud.test. 0 IN A 203.0.113.7'] },
    { name: 'a ClusterIP-only Service is NXDOMAIN', q: 'internal.testns.example.com', type: 'A', rcode: 3, soa: true },
    { name: 'an unknown Service is NXDOMAIN', q: 'nothere.testns.example.com', type: 'A', rcode: 3, soa: true },
    { name: 'an unknown namespace is NXDOMAIN', q: 'svc1.nons.example.com', type: 'A', rcode: 3, soa: true },
    { name: 'a namespace alone is NODATA', q: 'testns.example.com', type: 'A', rcode: 0, soa: true },
    { name: 'headless: the ready endpoints', q: 'headless.testns.example.com', type: 'A', rcode: 0, answer: ['headless.testns.example.com. 7 IN A 10.244.0.5'] },
    { name: 'headless: an endpoint by name', q: 'web-0.headless.testns.example.com', type: 'A', rcode: 0, answer: ['web-0.headless.testns.example.com. 7 IN A 10.244.0.5'] },
    { name: 'apex SOA', q: 'example.com', type: 'SOA', rcode: 0, answer: [SOA] },
    { name: 'apex NS with the name server address', q: 'example.com', type: 'NS', rcode: 0, answer: ['example.com. 7 IN NS ns1.dns.example.com.'], extra: ['ns1.dns.example.com. 7 IN A 127.0.0.1'] },
    { name: 'apex A is NODATA', q: 'example.com', type: 'A', rcode: 0, soa: true },
    { name: 'ns1.dns A', q: 'ns1.dns.example.com', type: 'A', rcode: 0, answer: ['ns1.dns.example.com. 7 IN A 127.0.0.1'] },
    { name: 'dns (an empty non-terminal) is NODATA', q: 'dns.example.com', type: 'A', rcode: 0, soa: true },
    { name: 'ns2.dns is NXDOMAIN', q: 'ns2.dns.example.com', type: 'A', rcode: 3, soa: true },
  ];
  for (const r of rows) {
    it(`${r.name}: ${r.q} ${r.type}`, async () => {
      const m = await server.query(r.q, r.type);
      expect(m.rcode).to.equal(r.rcode);
      expect(m.aa).to.equal(true);
      const text = (rrs: typeof m.answer) => rrs.map(rrText).map((t) => t.replace(/^(lb\.cloud\.test\. )\d+/, '$10').replace(/ \d+ 7200 1800 86400 7$/, ''));
      expect(text(m.answer)).to.deep.equal(r.answer ?? []);
      if (r.extra) expect(text(m.additional)).to.deep.equal(r.extra);
      if (r.soa) expect(text(m.authority)).to.deep.equal([SOA]);
    });
  }

  it('fallthrough: an NXDOMAIN name goes on down the chain (here: forward)', async () => {
    const m = await fallServer.query('other.example.com', 'A');
    expect(m.answer.map(rrText)).to.deep.equal(['other.example.com. 0 IN A 198.51.100.1']);
    // A known name is still answered by k8s_external, with the default ttl 5.
    expect((await fallServer.query('svc1.testns.example.com', 'A')).answer.map(rrText)).to.deep.equal(['svc1.testns.example.com. 5 IN A 1.2.3.4']);
  });

  it('without headless, a headless Service without external IPs has no external name (NXDOMAIN, passed on by fallthrough)', async () => {
    const m = await fallServer.query('headless.testns.example.com', 'A');
    expect(m.answer).to.deep.equal([]);
    expect(m.aa).to.equal(false); // not k8s_external's authoritative answer: forward's
  });
});
