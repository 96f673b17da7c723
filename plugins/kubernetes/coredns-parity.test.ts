// Where nodens once answered differently from CoreDNS 1.14 (issue 10, group 2): each case is named after
// the CoreDNS test or code it matches, so a diff against CoreDNS can be traced row by row.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../core/log.js';
import { Rcode } from '../../core/message.js';
import { rrText } from '../../core/testing.js';
import { FakeApiServer } from '../../test/fixtures/k8s-api-server.js';
import { http80, namespace, pod, service, slice } from '../../test/fixtures/k8s-objects.js';
import { startApiFeed } from './feed-api.js';
import { startFileFeed } from './feed-files.js';
import { ask, handler, loadedIndex } from '../../test/fixtures/k8s-handler.js';
import { dashedIP } from './names.js';
import { trimPod } from './objects.js';
import { ServiceIndex } from './service-index.js';

interface Row {
  /** The CoreDNS test (or code) the row comes from. */
  coredns: string;
  q: string;
  type: string;
  rcode: number;
  answer?: string[];
}

const rows: Row[] = [
  // handler.go: `case dns.TypeSOA: if qname == zone` — below the apex the answer is empty, err nil: NODATA.
  { coredns: 'handler.go ServeDNS TypeSOA at the apex', q: 'cluster.local', type: 'SOA', rcode: Rcode.NOERROR, answer: ['SOA'] },
  { coredns: 'handler.go ServeDNS TypeSOA below the apex (a service)', q: 'svc1.testns.svc.cluster.local', type: 'SOA', rcode: Rcode.NOERROR },
  { coredns: 'handler.go ServeDNS TypeSOA below the apex (no such name)', q: 'nothing.testns.svc.cluster.local', type: 'SOA', rcode: Rcode.NOERROR },
  // handler_test.go dnsTestCases: "A query for a subdomain of an external service should not resolve to the external service".
  { coredns: 'handler_test.go TestServeDNS endpoint.external CNAME', q: 'endpoint.external.testns.svc.cluster.local', type: 'CNAME', rcode: Rcode.NXDOMAIN },
  { coredns: 'handler_test.go TestServeDNS subdomain.subdomain.external CNAME', q: 'subdomain.subdomain.external.testns.svc.cluster.local', type: 'CNAME', rcode: Rcode.NXDOMAIN },
  { coredns: 'kubernetes.go findServices: ExternalName skips endpoint names (A)', q: 'a.external.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN },
  { coredns: 'kubernetes.go findServices: ExternalName skips port/protocol (A)', q: '_http._tcp.external.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN },
  { coredns: 'kubernetes.go findServices: ExternalName skips port/protocol (SRV)', q: '_http._tcp.external.testns.svc.cluster.local', type: 'SRV', rcode: Rcode.NXDOMAIN },
  { coredns: 'kubernetes.go findServices: 3 labels below the service are port/protocol, not a CNAME', q: 'a.b.external.testns.svc.cluster.local', type: 'A', rcode: Rcode.NXDOMAIN },
  // kubernetes.go Services: "SRV for external services is not yet implemented, so remove those records" — NODATA, not NXDOMAIN.
  { coredns: 'kubernetes.go Services: SRV drops ExternalName records', q: 'external.testns.svc.cluster.local', type: 'SRV', rcode: Rcode.NOERROR },
  { coredns: 'handler_test.go TestServeDNS CNAME External', q: 'external.testns.svc.cluster.local', type: 'CNAME', rcode: Rcode.NOERROR, answer: ['external.testns.svc.cluster.local. 5 IN CNAME ext.interwebs.test.'] },
  // reverse.go Reverse: a forward name keeps only Records' error — a PTR for a service name is NODATA.
  { coredns: 'reverse_test.go TestReverse svc1.testns.svc PTR', q: 'svc1.testns.svc.cluster.local', type: 'PTR', rcode: Rcode.NOERROR },
  { coredns: 'reverse.go Reverse: an ExternalName service name PTR', q: 'external.testns.svc.cluster.local', type: 'PTR', rcode: Rcode.NOERROR },
  { coredns: 'reverse.go Reverse: an unknown forward name PTR', q: 'nothing.testns.svc.cluster.local', type: 'PTR', rcode: Rcode.NXDOMAIN },
];

describe('kubernetes: answers as CoreDNS gives them (issue 10, group 2)', () => {
  const h = handler(loadedIndex());
  for (const r of rows) {
    it(`${r.coredns}: ${r.q} ${r.type}`, async () => {
      const m = await ask(h, r.q, r.type);
      expect(m.rcode).to.equal(r.rcode);
      if (r.answer?.[0] === 'SOA') {
        expect(m.answer.map((a) => a.type)).to.deep.equal(['SOA']);
        return;
      }
      expect(m.answer.map(rrText)).to.deep.equal(r.answer ?? []);
      // Negative answers carry the zone's SOA in authority.
      if (!r.answer) expect(m.authority.map((a) => `${a.name} ${a.type}`)).to.deep.equal(['cluster.local SOA']);
    });
  }
});

describe('kubernetes: IPv6 endpoint names (kubernetes_test.go TestEndpointHostname)', () => {
  const table: [string, string][] = [
    ['10.11.12.13', '10-11-12-13'],
    ['10:11:12::13', '10-11-12--13'],
    ['2001:db8:3333:4444:5555:6666::', '2001-db8-3333-4444-5555-6666--0'],
    ['fd00:45:1::', 'fd00-45-1--0'],
  ];
  for (const [ip, want] of table) it(`${ip} → ${want}`, () => expect(dashedIP(ip)).to.equal(want));

  it('a headless endpoint at fd00:45:1:: answers as fd00-45-1--0, SRV target included', async () => {
    const index = new ServiceIndex();
    index.apply('namespaces', 'add', namespace('ns'));
    index.apply('services', 'add', service('ns', 'h', { ports: http80 }));
    index.apply('endpointslices', 'add', slice('ns', 'h-1', 'h', [{ ip: 'fd00:45:1::' }], http80));
    index.markSynced();
    const h = handler(index);
    expect((await ask(h, 'fd00-45-1--0.h.ns.svc.cluster.local', 'AAAA')).answer.map(rrText)).to.deep.equal(['fd00-45-1--0.h.ns.svc.cluster.local. 5 IN AAAA fd00:45:1::']);
    expect((await ask(h, 'fd00-45-1--.h.ns.svc.cluster.local', 'AAAA')).rcode).to.equal(Rcode.NXDOMAIN);
    expect((await ask(h, 'h.ns.svc.cluster.local', 'SRV')).answer.map(rrText)).to.deep.equal(['h.ns.svc.cluster.local. 5 IN SRV 0 100 80 fd00-45-1--0.h.ns.svc.cluster.local.']);
  });
});

describe('kubernetes: pods verified (object/pod.go ToPod, controller.go podListFunc)', () => {
  const raw = (name: string, ip: string, extra: { phase?: string; deletionTimestamp?: string; labels?: Record<string, string> } = {}) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'testns', ...(extra.deletionTimestamp ? { deletionTimestamp: extra.deletionTimestamp } : {}), ...(extra.labels ? { labels: extra.labels } : {}) },
    status: { phase: extra.phase ?? 'Running', podIP: ip, podIPs: [{ ip }] },
  });
  const table: { name: string; pod: ReturnType<typeof raw>; answered: boolean }[] = [
    { name: 'Running', pod: raw('a', '10.244.0.1'), answered: true },
    { name: 'Pending', pod: raw('b', '10.244.0.2', { phase: 'Pending' }), answered: true },
    { name: 'terminating (deletionTimestamp, errPodTerminating)', pod: raw('c', '10.244.0.3', { deletionTimestamp: '2026-01-01T00:00:00Z' }), answered: false },
    { name: 'Succeeded', pod: raw('d', '10.244.0.4', { phase: 'Succeeded' }), answered: false },
    { name: 'Failed', pod: raw('e', '10.244.0.5', { phase: 'Failed' }), answered: false },
    { name: 'Unknown', pod: raw('f', '10.244.0.6', { phase: 'Unknown' }), answered: false },
  ];
  for (const c of table) {
    it(`a ${c.name} pod is ${c.answered ? '' : 'not '}answered`, async () => {
      const index = loadedIndex();
      index.apply('pods', 'add', trimPod(c.pod));
      const name = `${c.pod.status.podIP.replaceAll('.', '-')}.testns.pod.cluster.local`;
      expect((await ask(handler(index, { podMode: 'verified' }), name, 'A')).rcode).to.equal(c.answered ? Rcode.NOERROR : Rcode.NXDOMAIN);
    });
  }

  it('a running pod that starts terminating stops being answered', async () => {
    const index = loadedIndex();
    const h = handler(index, { podMode: 'verified' });
    index.apply('pods', 'add', trimPod(raw('a', '10.244.0.1')));
    expect((await ask(h, '10-244-0-1.testns.pod.cluster.local', 'A')).answer).to.have.length(1);
    index.apply('pods', 'update', trimPod(raw('a', '10.244.0.1', { deletionTimestamp: '2026-01-01T00:00:00Z' })));
    expect((await ask(h, '10-244-0-1.testns.pod.cluster.local', 'A')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('labels filter pods in a manifests feed, as the pod informer\'s label selector does', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodens-pods-'));
    const index = new ServiceIndex();
    const feed = startFileFeed(index, { paths: [dir], pollMs: 0, pods: true, labels: 'app=web' }, memoryLogger());
    try {
      const docs = [namespace('testns'), raw('in', '10.244.0.1', { labels: { app: 'web' } }), raw('out', '10.244.0.2', { labels: { app: 'db' } }), raw('gone', '10.244.0.3', { labels: { app: 'web' }, phase: 'Failed' })];
      await writeFile(join(dir, 'pods.json'), JSON.stringify({ apiVersion: 'v1', kind: 'List', items: docs }));
      await index.whenSynced();
      const end = Date.now() + 5000;
      while (!index.podExists('testns', '10.244.0.1') && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      expect(index.podExists('testns', '10.244.0.1')).to.equal(true);
      expect(index.podExists('testns', '10.244.0.2')).to.equal(false);
      expect(index.podExists('testns', '10.244.0.3')).to.equal(false);
    } finally {
      await feed.stop();
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('the API feed lists and watches pods with CoreDNS\'s phase field selector and the labels selector', async function () {
    this.timeout(10_000);
    const api = await FakeApiServer.start();
    const index = new ServiceIndex();
    const feed = startApiFeed(index, { endpoint: api.url, pods: true, labels: 'app=web' }, memoryLogger());
    try {
      api.add('pods', pod('testns', 'p', '10.244.0.9'));
      await index.whenSynced();
      const end = Date.now() + 5000;
      while (!api.requests.some((r) => r.kind === 'pods' && r.watch) && Date.now() < end) await new Promise((r) => setTimeout(r, 10));
      const pods = api.requests.filter((r) => r.kind === 'pods');
      expect(pods.map((r) => r.watch)).to.include.members([false, true]);
      for (const r of pods) {
        expect(r.query.get('fieldSelector')).to.equal('status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown');
        expect(r.query.get('labelSelector')).to.equal('app=web');
      }
      expect(api.requests.filter((r) => r.kind === 'services').every((r) => r.query.get('fieldSelector') === null)).to.equal(true);
    } finally {
      await feed.stop();
      await api.close();
    }
  });
});

describe('kubernetes: kubeconfig pointing at a plain-http server (as client-go allows)', () => {
  it('syncs from http://127.0.0.1', async function () {
    this.timeout(10_000);
    const api = await FakeApiServer.start();
    const dir = await mkdtemp(join(tmpdir(), 'nodens-kc-'));
    const index = new ServiceIndex();
    const logger = memoryLogger();
    const kubeconfig = join(dir, 'config');
    await writeFile(kubeconfig, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'plain',
      clusters: [{ name: 'local', cluster: { server: api.url } }],
      contexts: [{ name: 'plain', context: { cluster: 'local', user: 'nobody' } }],
      users: [{ name: 'nobody', user: {} }],
    }));
    api.add('namespaces', namespace('testns'));
    api.add('services', service('testns', 'web', { clusterIPs: ['10.96.0.7'], ports: http80 }));
    const feed = startApiFeed(index, { kubeconfig }, logger);
    try {
      expect(api.url).to.match(/^http:\/\/127\.0\.0\.1:/);
      expect(await feed.waitForSync(8000)).to.equal(true);
      expect((await ask(handler(index), 'web.testns.svc.cluster.local', 'A')).answer.map(rrText)).to.deep.equal(['web.testns.svc.cluster.local. 5 IN A 10.96.0.7']);
    } finally {
      await feed.stop();
      await api.close();
      await rm(dir, { recursive: true, force: true });
    }
  });
});
