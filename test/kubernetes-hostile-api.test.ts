// A whole server against an API server (or proxy) that misbehaves on the watch stream: the process keeps
// answering over real UDP, counts what it skipped, and recovers: events after the bad line are served.
import { expect } from 'chai';
import { Rcode } from '../core/message.js';
import { startServer, type TestServer } from '../core/testing.js';
import { freePort } from '../plugins/pkg/test-env.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { http80, namespace, service } from './fixtures/k8s-objects.js';

async function until(what: string, cond: () => boolean | Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!(await cond())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 20));
  }
}

describe('a server whose API server sends hostile watch lines', function () {
  this.timeout(20_000);
  let api: FakeApiServer;
  let s: TestServer;
  let metrics: number;

  beforeEach(async () => {
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('prod'));
    api.add('services', service('prod', 'db', { clusterIPs: ['10.96.0.10'], ports: http80 }));
    metrics = await freePort();
    s = await startServer(`cluster.local {\n    prometheus 127.0.0.1:${metrics}\n    kubernetes {\n        endpoint ${api.url}\n    }\n}\n`);
    await until('the services watch', () => api.watchCount('services') === 1);
  });
  afterEach(async () => {
    await s.close();
    await api.close();
  });

  const ip = async (name: string) => (await s.query(name)).answer.map((a) => a.data);
  const malformedCount = async () => {
    const text = await (await fetch(`http://127.0.0.1:${metrics}/metrics`)).text();
    return Number(/^coredns_kubernetes_malformed_objects_total\{resource="services"\} (\d+)$/m.exec(text)?.[1] ?? 0);
  };

  for (const line of ['[]', '{"type":"ERROR"}', '{"type":"ADDED","object":{"metadata":{"name":"x","namespace":"prod"},"spec":{"clusterIP":"banana"}}}', 'not json at all']) {
    it(`keeps answering and recovers after ${line}`, async () => {
      api.sendRaw(`${line}\n`, 'services');
      api.add('services', service('prod', 'after', { clusterIPs: ['10.96.0.20'], ports: http80 }));
      await until('the event after the bad line', async () => (await ip('after.prod.svc.cluster.local')).length === 1);
      expect(await ip('after.prod.svc.cluster.local')).to.deep.equal(['10.96.0.20']);
      expect(await ip('db.prod.svc.cluster.local')).to.deep.equal(['10.96.0.10']);
      expect((await s.query('x.prod.svc.cluster.local')).rcode).to.equal(Rcode.NXDOMAIN);
      expect(await malformedCount()).to.equal(1);
      expect(s.logs.filter((l) => l.startsWith('[WARNING] plugin/kubernetes: skipped malformed'))).to.have.length(1);
    });
  }
});
