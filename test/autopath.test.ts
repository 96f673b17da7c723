// autopath @kubernetes end to end: a real server fed by the API stand-in, forward to a real dnsmasq, and the
// client at 127.0.0.1 known as a pod (pods verified). A pod in `shop` with the standard search path
// (shop.svc.cluster.local svc.cluster.local cluster.local, ndots:5) asks NAME.shop.svc.cluster.local first.
import { expect } from 'chai';
import { rrText, startServer, type TestServer } from '../core/testing.js';
import { startDnsmasq, type Dnsmasq } from './fixtures/dnsmasq.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { http80, namespace, service } from './fixtures/k8s-objects.js';
import type { KPod } from '../plugins/kubernetes/objects.js';

const clientPod = (hostNetwork: boolean): KPod => ({
  apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'shop' },
  ...(hostNetwork ? { spec: { hostNetwork: true } } : {}),
  status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] },
} as KPod);

describe('autopath @kubernetes (one query instead of the search-list walk)', function () {
  this.timeout(30_000);
  let api: FakeApiServer;
  let dnsmasq: Dnsmasq;
  const servers: TestServer[] = [];

  before(async () => {
    dnsmasq = await startDnsmasq({
      // --address=/missing.example.com/ (no address): dnsmasq answers NXDOMAIN for it.
      args: ['--address=/api.example.com/192.0.2.10', '--address=/missing.example.com/'],
      probe: 'api.example.com',
    });
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('shop'), namespace('default'));
    api.add('services', service('shop', 'cart', { clusterIPs: ['10.96.0.20'], ports: http80 }), service('default', 'db', { clusterIPs: ['10.96.0.30'], ports: http80 }));
  });

  after(async () => {
    for (const s of servers.splice(0)) await s.close();
    await api?.close();
    await dnsmasq?.stop();
  });

  async function serve(autopath: boolean): Promise<TestServer> {
    const s = await startServer(`. {\n${autopath ? '  autopath @kubernetes\n' : ''}  kubernetes cluster.local {\n    endpoint ${api.url}\n    pods verified\n  }\n  forward . 127.0.0.1:${dnsmasq.port}\n}\n`);
    servers.push(s);
    return s;
  }

  describe('the client is a pod in shop', () => {
    let on: TestServer;
    let off: TestServer;
    before(async () => {
      api.add('pods', clientPod(false));
      on = await serve(true);
      off = await serve(false);
    });
    after(() => api.delete('pods', clientPod(false)));

    it('api.example.com in ONE query: CNAME from the asked name, then the upstream answer (CoreDNS cnamer)', async () => {
      const m = await on.query('api.example.com.shop.svc.cluster.local', 'A');
      expect(m.rcode).to.equal(0);
      expect(m.answer.map(rrText)).to.deep.equal([
        'api.example.com.shop.svc.cluster.local. 0 IN CNAME api.example.com.',
        'api.example.com. 0 IN A 192.0.2.10',
      ].map((t) => t.replace(' 0 ', ` ${m.answer[0]!.ttl} `)));
      expect(m.answer[0]!.ttl).to.equal(m.answer[1]!.ttl);
    });

    it('without autopath the same first query is NXDOMAIN (the client goes on to 3 more: 4 in all)', async () => {
      const names = ['api.example.com.shop.svc.cluster.local', 'api.example.com.svc.cluster.local', 'api.example.com.cluster.local', 'api.example.com'];
      const rcodes = [];
      for (const n of names) rcodes.push((await off.query(n, 'A')).rcode);
      expect(rcodes).to.deep.equal([3, 3, 3, 0]);
    });

    it('a cluster name from another namespace: CNAME to db.default.svc.cluster.local and its A', async () => {
      const m = await on.query('db.default.shop.svc.cluster.local', 'A');
      expect(m.answer.map(rrText)).to.deep.equal(['db.default.shop.svc.cluster.local. 5 IN CNAME db.default.svc.cluster.local.', 'db.default.svc.cluster.local. 5 IN A 10.96.0.30']);
    });

    it('a name that exists in the first search domain is answered as is (no CNAME)', async () => {
      const m = await on.query('cart.shop.svc.cluster.local', 'A');
      expect(m.answer.map(rrText)).to.deep.equal(['cart.shop.svc.cluster.local. 5 IN A 10.96.0.20']);
    });

    it('a query outside the first search domain is not rewritten', async () => {
      const m = await on.query('api.example.com.svc.cluster.local', 'A');
      expect(m.rcode).to.equal(3);
      expect(m.answer).to.deep.equal([]);
    });

    it('final NXDOMAIN: when every candidate is NXDOMAIN the client gets the first reply unchanged (and walks its list itself)', async () => {
      const m = await on.query('missing.example.com.shop.svc.cluster.local', 'A');
      expect(m.rcode).to.equal(3);
      expect(m.answer).to.deep.equal([]);
      // The first name's own negative answer: the cluster zone's SOA, not the upstream's.
      expect(m.authority.map((r) => `${r.name} ${r.type}`)).to.deep.equal(['cluster.local SOA']);
    });
  });

  it('a hostNetwork pod at the client address is never autopathed (its address is the node\'s)', async () => {
    api.add('pods', clientPod(true));
    try {
      const s = await serve(true);
      const m = await s.query('api.example.com.shop.svc.cluster.local', 'A');
      expect(m.rcode).to.equal(3);
      expect(m.answer).to.deep.equal([]);
    } finally {
      api.delete('pods', clientPod(true));
    }
  });

  it('without pods verified there is no pod index: no autopath', async () => {
    api.add('pods', clientPod(false));
    try {
      const s = await startServer(`. {\n  autopath @kubernetes\n  kubernetes cluster.local {\n    endpoint ${api.url}\n  }\n  forward . 127.0.0.1:${dnsmasq.port}\n}\n`);
      servers.push(s);
      expect((await s.query('api.example.com.shop.svc.cluster.local', 'A')).rcode).to.equal(3);
    } finally {
      api.delete('pods', clientPod(false));
    }
  });
});
