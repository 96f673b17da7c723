// Over real sockets: a server from a Corefile, fed by client-node from the stand-in API server, asked with dig.
import { expect } from 'chai';
import { startServer, type TestServer } from '../../core/testing.js';
import { FakeApiServer } from '../../test/fixtures/k8s-api-server.js';
import { http80, namespace, service, slice } from '../../test/fixtures/k8s-objects.js';

/** The answer section of `dig +noall +answer`, one record a line, whitespace squeezed. */
function lines(out: string): string[] {
  return out.split('\n').filter((l) => l.trim() !== '' && !l.startsWith(';')).map((l) => l.trim().split(/\s+/).join(' ')).sort();
}

describe('kubernetes over UDP and TCP (dig)', function () {
  this.timeout(20_000);
  let api: FakeApiServer;
  let server: TestServer;

  before(async () => {
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('default'), namespace('prod'));
    api.add('services',
      service('default', 'db', { clusterIPs: ['192.168.20.3'], ports: [{ name: 'postgres', port: 5432, protocol: 'TCP' }] }),
      service('prod', 'web', { ports: http80 }),
      service('prod', 'search', { type: 'ExternalName', externalName: 'db.default.svc.cluster.local' }));
    api.add('endpointslices', slice('prod', 'web-a', 'web', [{ ip: '10.244.0.11', hostname: 'web-0' }, { ip: '10.244.0.12', hostname: 'web-1' }], http80));
    server = await startServer(`cluster.local 20.168.192.in-addr.arpa {\n  kubernetes {\n    endpoint ${api.url}\n    pods insecure\n  }\n}\n`);
  });

  after(async () => {
    await server?.close();
    await api?.close();
  });

  it('A of a ClusterIP service (AA set)', async () => {
    const out = await server.dig(['db.default.svc.cluster.local', 'A', '+noall', '+answer', '+comments']);
    expect(out).to.match(/flags: qr aa rd;/);
    expect(lines(out)).to.deep.equal(['db.default.svc.cluster.local. 5 IN A 192.168.20.3']);
  });

  it('A of a headless service over TCP', async () => {
    const out = await server.dig(['web.prod.svc.cluster.local', 'A', '+noall', '+answer', '+tcp']);
    expect(lines(out)).to.deep.equal(['web.prod.svc.cluster.local. 5 IN A 10.244.0.11', 'web.prod.svc.cluster.local. 5 IN A 10.244.0.12']);
  });

  it('SRV with the targets’ addresses in the additional section', async () => {
    const out = await server.dig(['_http._tcp.web.prod.svc.cluster.local', 'SRV', '+noall', '+answer', '+additional']);
    expect(lines(out)).to.deep.equal([
      '_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 50 80 web-0.web.prod.svc.cluster.local.',
      '_http._tcp.web.prod.svc.cluster.local. 5 IN SRV 0 50 80 web-1.web.prod.svc.cluster.local.',
      'web-0.web.prod.svc.cluster.local. 5 IN A 10.244.0.11',
      'web-1.web.prod.svc.cluster.local. 5 IN A 10.244.0.12',
    ]);
  });

  it('an ExternalName chased inside the zone', async () => {
    const out = await server.dig(['search.prod.svc.cluster.local', 'A', '+noall', '+answer']);
    expect(lines(out)).to.deep.equal(['db.default.svc.cluster.local. 5 IN A 192.168.20.3', 'search.prod.svc.cluster.local. 5 IN CNAME db.default.svc.cluster.local.']);
  });

  it('PTR of a ClusterIP, pods insecure, and the schema TXT', async () => {
    expect(lines(await server.dig(['-x', '192.168.20.3', '+noall', '+answer']))).to.deep.equal(['3.20.168.192.in-addr.arpa. 5 IN PTR db.default.svc.cluster.local.']);
    expect(lines(await server.dig(['10-1-2-3.prod.pod.cluster.local', 'A', '+noall', '+answer']))).to.deep.equal(['10-1-2-3.prod.pod.cluster.local. 5 IN A 10.1.2.3']);
    expect(lines(await server.dig(['dns-version.cluster.local', 'TXT', '+noall', '+answer']))).to.deep.equal(['dns-version.cluster.local. 28800 IN TXT "1.1.0"']);
  });

  it('NXDOMAIN and NODATA with the SOA in authority', async () => {
    const nx = await server.dig(['nope.default.svc.cluster.local', 'A', '+noall', '+comments', '+authority']);
    expect(nx).to.match(/status: NXDOMAIN/);
    expect(nx).to.match(/flags: qr aa rd;/);
    expect(nx).to.match(/cluster\.local\.\s+5\s+IN\s+SOA\s+ns\.dns\.cluster\.local\. hostmaster\.cluster\.local\. \d+ 7200 1800 86400 5/);
    const nodata = await server.dig(['db.default.svc.cluster.local', 'AAAA', '+noall', '+comments', '+authority']);
    expect(nodata).to.match(/status: NOERROR/);
    expect(nodata).to.match(/ANSWER: 0,/);
    expect(nodata).to.match(/IN\s+SOA/);
  });

  it('serves a live change', async () => {
    api.update('services', service('default', 'db', { clusterIPs: ['192.168.20.4'], ports: http80 }));
    const end = Date.now() + 5000;
    let got: string[] = [];
    while (Date.now() < end) {
      got = lines(await server.dig(['db.default.svc.cluster.local', 'A', '+noall', '+answer']));
      if (got[0]?.endsWith('192.168.20.4')) break;
      await new Promise((r) => setTimeout(r, 20));
    }
    expect(got).to.deep.equal(['db.default.svc.cluster.local. 5 IN A 192.168.20.4']);
  });
});
