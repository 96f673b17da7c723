// The API feed through the real @kubernetes/client-node against the stand-in API server.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../core/log.js';
import { messageOf, Rcode, type Message } from '../../core/message.js';
import { makeRequest, rrText, stubNext } from '../../core/testing.js';
import { FakeApiServer } from '../../test/fixtures/k8s-api-server.js';
import { http80, namespace, pod, service, slice } from '../../test/fixtures/k8s-objects.js';
import { startApiFeed, type ApiFeedOptions, type Feed } from './feed-api.js';
import { KubernetesHandler } from './kubernetes.js';
import { ServiceIndex } from './service-index.js';

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

interface Rig {
  api: FakeApiServer;
  index: ServiceIndex;
  feed: Feed;
  logger: ReturnType<typeof memoryLogger>;
  ask(name: string, type?: string): Promise<Message>;
  answers(name: string, type?: string): Promise<string[]>;
}

const rigs: Rig[] = [];

async function rig(opts: Partial<ApiFeedOptions> = {}, api?: FakeApiServer): Promise<Rig> {
  api ??= await FakeApiServer.start();
  const index = new ServiceIndex();
  const logger = memoryLogger();
  const feed = startApiFeed(index, { endpoint: api.url, backoffInitialMs: 20, backoffMaxMs: 200, ...opts } as ApiFeedOptions, logger);
  const h = new KubernetesHandler({
    index, zones: ['cluster.local', 'in-addr.arpa'], primaryZone: 'cluster.local', ttl: 5, podMode: opts.pods ? 'verified' : 'disabled',
    namespaces: undefined, ignoreEmptyService: false, fall: undefined, localIPs: () => ['127.0.0.1'], resolve: () => Promise.reject(new Error('none')),
  });
  const ask = async (name: string, type = 'A') => {
    const req = makeRequest(name, type);
    return messageOf(await h.serve(req, stubNext(req)));
  };
  const r: Rig = { api, index, feed, logger, ask, answers: async (n, t) => (await ask(n, t)).answer.map(rrText) };
  rigs.push(r);
  return r;
}

/** Waits until a query's answer (as text) satisfies `pred`. */
async function answerUntil(r: Rig, name: string, pred: (m: Message) => boolean, what: string, timeoutMs = 5000): Promise<Message> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const m = await r.ask(name);
    if (pred(m)) return m;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}: last ${m.rcode} ${m.answer.map(rrText).join(', ')}`);
    await new Promise((res) => setTimeout(res, 10));
  }
}

const hasA = (ip: string) => (m: Message) => m.answer.some((a) => a.type === 'A' && a.data === ip);

function seed(api: FakeApiServer): void {
  api.add('namespaces', namespace('default'), namespace('prod'));
  api.add('services', service('prod', 'db', { clusterIPs: ['10.96.0.10'], ports: http80 }), service('prod', 'web', { ports: http80 }));
  api.add('endpointslices', slice('prod', 'web-abc', 'web', [{ ip: '10.244.1.1', hostname: 'web-0' }, { ip: '10.244.1.2', hostname: 'web-1' }], http80));
}

describe('kubernetes API feed (client-node against the stand-in API server)', function () {
  this.timeout(20_000);

  afterEach(async () => {
    for (const r of rigs.splice(0)) {
      await r.feed.stop();
      await r.api.close();
    }
  });

  it('lists, syncs, and answers ClusterIP, headless, endpoint and PTR names', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    expect(await r.feed.waitForSync(5000)).to.equal(true);
    expect(r.index.synced).to.equal(true);
    expect(await r.answers('db.prod.svc.cluster.local')).to.deep.equal(['db.prod.svc.cluster.local. 5 IN A 10.96.0.10']);
    expect((await r.answers('web.prod.svc.cluster.local')).sort()).to.deep.equal(['web.prod.svc.cluster.local. 5 IN A 10.244.1.1', 'web.prod.svc.cluster.local. 5 IN A 10.244.1.2']);
    expect(await r.answers('web-1.web.prod.svc.cluster.local')).to.deep.equal(['web-1.web.prod.svc.cluster.local. 5 IN A 10.244.1.2']);
    expect(await r.answers('1.1.244.10.in-addr.arpa', 'PTR')).to.deep.equal(['1.1.244.10.in-addr.arpa. 5 IN PTR web-0.web.prod.svc.cluster.local.']);
    expect(r.logger.lines.some((l) => /^\[INFO\] synced services, namespaces, endpointslices in \d+\.\d+s$/.test(l))).to.equal(true);
    // Lists are paged and watches ask for bookmarks and a server-side timeout.
    await until(() => api.watchCount('services') === 1, 'the services watch');
    const watch = r.api.requests.find((q) => q.watch && q.kind === 'services')!;
    expect(watch.query.get('allowWatchBookmarks')).to.equal('true');
    expect(Number(watch.query.get('timeoutSeconds'))).to.be.greaterThan(0);
    expect(r.api.requests.find((q) => !q.watch)!.query.get('limit')).to.equal('500');
  });

  it('applies live add, update and delete events', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    await r.feed.waitForSync(5000);
    api.add('services', service('prod', 'cache', { clusterIPs: ['10.96.0.20'], ports: http80 }));
    await answerUntil(r, 'cache.prod.svc.cluster.local', hasA('10.96.0.20'), 'the added service');
    api.update('services', service('prod', 'cache', { clusterIPs: ['10.96.0.21'], ports: http80 }));
    await answerUntil(r, 'cache.prod.svc.cluster.local', hasA('10.96.0.21'), 'the updated service');
    api.update('endpointslices', slice('prod', 'web-abc', 'web', [{ ip: '10.244.1.1', hostname: 'web-0' }, { ip: '10.244.1.2', hostname: 'web-1', ready: false }], http80));
    await answerUntil(r, 'web.prod.svc.cluster.local', (m) => m.answer.length === 1, 'the not-ready endpoint to leave');
    expect((await r.ask('web-1.web.prod.svc.cluster.local')).rcode).to.equal(Rcode.NXDOMAIN);
    api.delete('services', service('prod', 'cache'));
    await answerUntil(r, 'cache.prod.svc.cluster.local', (m) => m.rcode === Rcode.NXDOMAIN, 'the deleted service to go');
    expect((await r.ask('21.0.96.10.in-addr.arpa', 'PTR')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('re-watches from its resourceVersion when the server closes the watch', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    await r.feed.waitForSync(5000);
    await until(() => api.watchCount('services') === 1, 'the services watch');
    const lists = api.requests.filter((q) => !q.watch && q.kind === 'services').length;
    api.closeWatches();
    api.add('services', service('prod', 'after-close', { clusterIPs: ['10.96.0.30'], ports: http80 }));
    await answerUntil(r, 'after-close.prod.svc.cluster.local', hasA('10.96.0.30'), 'the event sent while re-watching');
    const rewatch = api.requests.filter((q) => q.watch && q.kind === 'services').at(-1)!;
    expect(Number(rewatch.resourceVersion)).to.be.greaterThan(0);
    expect(api.requests.filter((q) => !q.watch && q.kind === 'services').length).to.equal(lists);
  });

  it('relists after 410 Gone and drops objects deleted meanwhile', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    await r.feed.waitForSync(5000);
    await until(() => api.watchCount() === 3, 'three watches');
    // The client misses the delete (a dead watch), then its resourceVersion is compacted away.
    api.muteWatches();
    api.delete('services', service('prod', 'db'));
    api.add('services', service('prod', 'newer', { clusterIPs: ['10.96.0.40'], ports: http80 }));
    api.compact();
    const lists = api.requests.filter((q) => !q.watch && q.kind === 'services').length;
    api.closeWatches();
    await answerUntil(r, 'db.prod.svc.cluster.local', (m) => m.rcode === Rcode.NXDOMAIN, 'the relist to drop db');
    expect((await r.ask('newer.prod.svc.cluster.local')).answer).to.have.length(1);
    expect(api.requests.filter((q) => !q.watch && q.kind === 'services').length).to.equal(lists + 1);
  });

  it('relists after an in-stream ERROR 410', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    await r.feed.waitForSync(5000);
    await until(() => api.watchCount('services') === 1, 'the services watch');
    const lists = api.requests.filter((q) => !q.watch && q.kind === 'services').length;
    api.expireWatches('services');
    await until(() => api.requests.filter((q) => !q.watch && q.kind === 'services').length === lists + 1, 'a relist');
    api.add('services', service('prod', 'post410', { clusterIPs: ['10.96.0.41'], ports: http80 }));
    await answerUntil(r, 'post410.prod.svc.cluster.local', hasA('10.96.0.41'), 'events after the relist');
  });

  it('keeps answering through an API server outage, logs it once per interval, and catches up after', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({ outageLogIntervalMs: 60_000 }, api);
    await r.feed.waitForSync(5000);
    await api.stop();
    // Restarts are attempted (with backoff) while the server is down.
    await new Promise((res) => setTimeout(res, 600));
    expect(await r.answers('db.prod.svc.cluster.local')).to.deep.equal(['db.prod.svc.cluster.local. 5 IN A 10.96.0.10']);
    const outageLines = r.logger.lines.filter((l) => l.includes('Kubernetes API connection failure'));
    expect(outageLines).to.have.length(1);
    expect(outageLines[0]).to.match(/^\[WARNING\] /);
    api.add('services', service('prod', 'while-down', { clusterIPs: ['10.96.0.50'], ports: http80 }));
    await api.restart();
    await answerUntil(r, 'while-down.prod.svc.cluster.local', hasA('10.96.0.50'), 'catching up after the outage');
    await until(() => r.logger.lines.some((l) => l.includes('Kubernetes API connection restored')), 'the restored line');
  });

  it('restarts after an HTTP 500 on list', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    api.failNext(500, 'services');
    const r = await rig({}, api);
    expect(await r.feed.waitForSync(5000)).to.equal(true);
    expect(await r.answers('db.prod.svc.cluster.local')).to.have.length(1);
    expect(r.logger.lines.some((l) => l.includes('Kubernetes API connection failure'))).to.equal(true);
  });

  it('is unsynced (SERVFAIL for unknown names) until the API server comes up', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    await api.stop();
    const r = await rig({}, api);
    expect(await r.feed.waitForSync(300)).to.equal(false);
    expect((await r.ask('db.prod.svc.cluster.local')).rcode).to.equal(Rcode.SERVFAIL);
    await api.restart();
    expect(await r.feed.waitForSync(5000)).to.equal(true);
    expect(await r.answers('db.prod.svc.cluster.local')).to.have.length(1);
    expect((await r.ask('nothing.prod.svc.cluster.local')).rcode).to.equal(Rcode.NXDOMAIN);
  });

  it('re-establishes a silent (half-open) watch with its watchdog', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({ watchdogMs: 300 }, api);
    await r.feed.waitForSync(5000);
    await until(() => api.watchCount('services') === 1, 'the services watch');
    api.muteWatches();
    api.add('services', service('prod', 'missed', { clusterIPs: ['10.96.0.60'], ports: http80 }));
    await answerUntil(r, 'missed.prod.svc.cluster.local', hasA('10.96.0.60'), 'the watchdog to recover the missed event');
    expect(r.logger.lines.some((l) => /watch of services silent for/.test(l))).to.equal(true);
  });

  it('watches pods only for pods verified, and passes the label selectors', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    // `labels` selects pods too (CoreDNS's pod informer gets dns.selector).
    const labelled = pod('prod', 'p1', '10.244.9.9');
    api.add('pods', { ...labelled, metadata: { ...labelled.metadata, labels: { app: 'web' } } });
    const r = await rig({ pods: true, labels: 'app=web', namespaceLabels: 'team in (a, b)' }, api);
    await r.feed.waitForSync(5000);
    expect(api.requests.some((q) => q.kind === 'pods')).to.equal(true);
    expect(api.requests.find((q) => q.kind === 'services')!.query.get('labelSelector')).to.equal('app=web');
    expect(api.requests.find((q) => q.kind === 'namespaces')!.query.get('labelSelector')).to.equal('team in (a, b)');
    expect(r.index.podExists('prod', '10.244.9.9')).to.equal(true);
    const plain = await rig({});
    await plain.feed.waitForSync(5000);
    expect(plain.api.requests.some((q) => q.kind === 'pods')).to.equal(false);
  });

  it('connects with a kubeconfig file and context (client-node KubeConfig)', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const dir = await mkdtemp(join(tmpdir(), 'nodens-kc-'));
    const file = join(dir, 'config');
    await writeFile(file, [
      'apiVersion: v1', 'kind: Config', 'current-context: wrong',
      'clusters:', `- { name: fake, cluster: { server: "${api.url}", insecure-skip-tls-verify: true } }`, '- { name: nowhere, cluster: { server: "http://127.0.0.1:1" } }',
      'users:', '- { name: me, user: { token: abc } }',
      'contexts:', '- { name: test, context: { cluster: fake, user: me } }', '- { name: wrong, context: { cluster: nowhere, user: me } }', '',
    ].join('\n'));
    try {
      const r = await rig({ endpoint: undefined, kubeconfig: file, context: 'test' }, api);
      // The first import of client-node's package index (KubeConfig) takes seconds on a loaded machine.
      expect(await r.feed.waitForSync(15_000)).to.equal(true);
      expect(await r.answers('db.prod.svc.cluster.local')).to.have.length(1);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('stop() closes every watch and restarts nothing', async () => {
    const api = await FakeApiServer.start();
    seed(api);
    const r = await rig({}, api);
    await r.feed.waitForSync(5000);
    await until(() => api.watchCount() === 3, 'three watches');
    await r.feed.stop();
    await until(() => api.watchCount() === 0, 'the watches to close');
    const n = api.requests.length;
    await new Promise((res) => setTimeout(res, 300));
    expect(api.requests.length).to.equal(n);
  });

  describe('a hostile or broken API server', () => {
    const watches = (api: FakeApiServer) => api.requests.filter((q) => q.watch && q.kind === 'services').length;
    const lists = (api: FakeApiServer) => api.requests.filter((q) => !q.watch && q.kind === 'services').length;
    const counted: string[] = [];
    const hostile = (api: FakeApiServer, opts: Partial<ApiFeedOptions> = {}) => rig({ onMalformed: (r) => counted.push(r), ...opts }, api);
    beforeEach(() => {
      counted.length = 0;
    });

    // Each is valid JSON but not a watch event the plugin can use: skipped, counted, logged; the stream stays.
    const malformedEvents: [string, string, RegExp][] = [
      ['an empty list', '[]', /expected a watch event object, got a list/],
      ['null', 'null', /got null/],
      ['a number', '42', /got number/],
      ['a string', '"ADDED"', /got string/],
      ['no object', '{"type":"ADDED"}', /object: expected an object, got undefined/],
      ['an ERROR without object', '{"type":"ERROR"}', /object: expected an object/],
      ['an unknown type', '{"type":"EXPLODED","object":{}}', /not a watch event type/],
      ['an empty object', '{"type":"ADDED","object":{}}', /metadata: expected an object, got undefined/],
      ['a numeric name', '{"type":"ADDED","object":{"metadata":{"name":5,"namespace":"prod"},"spec":{}}}', /metadata.name: expected a string, got number/],
      ['no spec', '{"type":"MODIFIED","object":{"metadata":{"name":"db","namespace":"prod"}}}', /spec: expected an object/],
      ['a bad cluster IP', '{"type":"MODIFIED","object":{"metadata":{"name":"db","namespace":"prod"},"spec":{"clusterIP":"banana"}}}', /spec.clusterIP: not an IP address/],
      ['clusterIPs not a list', '{"type":"MODIFIED","object":{"metadata":{"name":"db","namespace":"prod"},"spec":{"clusterIPs":"10.0.0.1"}}}', /spec.clusterIPs: expected a list/],
      ['a port out of range', '{"type":"MODIFIED","object":{"metadata":{"name":"db","namespace":"prod"},"spec":{"clusterIP":"10.96.0.10","ports":[{"port":70000}]}}}', /spec.ports\[0\].port: not a port number/],
      ['a name too long', `{"type":"ADDED","object":{"metadata":{"name":"${'a'.repeat(300)}","namespace":"prod"},"spec":{}}}`, /metadata.name: not a DNS-1123 label/],
      ['a BOOKMARK without resourceVersion', '{"type":"BOOKMARK","object":{"metadata":null}}', /BOOKMARK without a resourceVersion/],
    ];
    for (const [name, line, why] of malformedEvents) {
      it(`skips ${name} (${line.length > 60 ? `${line.slice(0, 57)}...` : line}), counts it, and keeps the stream`, async () => {
        const api = await FakeApiServer.start();
        seed(api);
        const r = await hostile(api);
        await r.feed.waitForSync(5000);
        await until(() => api.watchCount('services') === 1, 'the services watch');
        const before = watches(api);
        api.sendRaw(`${line}\n`, 'services');
        api.add('services', service('prod', 'after', { clusterIPs: ['10.96.0.70'], ports: http80 }));
        await answerUntil(r, 'after.prod.svc.cluster.local', hasA('10.96.0.70'), 'the event after the malformed one');
        expect(await r.answers('db.prod.svc.cluster.local')).to.deep.equal(['db.prod.svc.cluster.local. 5 IN A 10.96.0.10']);
        expect(counted).to.deep.equal(['services']);
        const warned = r.logger.lines.filter((l) => l.includes('skipped malformed watch event of services'));
        expect(warned).to.have.length(1);
        expect(warned[0]).to.match(why);
        expect(watches(api)).to.equal(before);
      });
    }

    it('logs malformed events once per interval, counting every one', async () => {
      const api = await FakeApiServer.start();
      seed(api);
      const r = await hostile(api, { malformedLogIntervalMs: 60_000 });
      await r.feed.waitForSync(5000);
      await until(() => api.watchCount('services') === 1, 'the services watch');
      for (let i = 0; i < 5; i++) api.sendRaw('[]\n', 'services');
      await until(() => counted.length === 5, 'five counted');
      expect(r.logger.lines.filter((l) => l.includes('skipped malformed'))).to.have.length(1);
    });

    const untrusted: [string, (api: FakeApiServer) => void, RegExp][] = [
      ['a line that is not JSON', (api) => api.sendRaw('<html>502 Bad Gateway</html>\n', 'services'), /a line that is not JSON/],
      ['ten malformed events in a row', (api) => api.sendRaw('[]\n'.repeat(10), 'services'), /10 malformed events/],
      ['a line longer than the limit', (api) => api.sendRaw(`{"type":"ADDED","object":"${'x'.repeat(70_000)}`, 'services'), /a line longer than 65536 bytes/],
    ];
    for (const [name, send, why] of untrusted) {
      it(`restarts the watch after ${name}, resuming without a relist and keeping the data`, async () => {
        const api = await FakeApiServer.start();
        seed(api);
        const r = await hostile(api, { maxWatchLineBytes: 65_536 });
        await r.feed.waitForSync(5000);
        await until(() => api.watchCount('services') === 1, 'the services watch');
        const [w, l] = [watches(api), lists(api)];
        send(api);
        await until(() => watches(api) > w, 'a new watch');
        expect(lists(api)).to.equal(l);
        expect(r.logger.lines.some((x) => x.includes('Kubernetes API connection failure') && why.test(x))).to.equal(true, r.logger.lines.join('\n'));
        api.add('services', service('prod', 'after', { clusterIPs: ['10.96.0.71'], ports: http80 }));
        await answerUntil(r, 'after.prod.svc.cluster.local', hasA('10.96.0.71'), 'events on the new watch');
        expect(await r.answers('db.prod.svc.cluster.local')).to.deep.equal(['db.prod.svc.cluster.local. 5 IN A 10.96.0.10']);
      });
    }

    const badLists: [string, string, RegExp][] = [
      ['an empty list', '[]', /expected a list object, got a list/],
      ['items not a list', '{"items":{},"metadata":{"resourceVersion":"1"}}', /items: expected a list, got object/],
      ['a numeric resourceVersion', '{"items":[],"metadata":{"resourceVersion":7}}', /continue and resourceVersion must be strings/],
      ['not JSON', '<html>', /not JSON/],
    ];
    for (const [name, body, why] of badLists) {
      it(`retries a list answered with ${name}`, async () => {
        const api = await FakeApiServer.start();
        seed(api);
        api.answerNextList(body, 'services');
        const r = await hostile(api);
        expect(await r.feed.waitForSync(5000)).to.equal(true);
        expect(await r.answers('db.prod.svc.cluster.local')).to.deep.equal(['db.prod.svc.cluster.local. 5 IN A 10.96.0.10']);
        expect(r.logger.lines.some((x) => why.test(x))).to.equal(true, r.logger.lines.join('\n'));
      });
    }

    it('skips malformed items of a list and keeps the rest', async () => {
      const api = await FakeApiServer.start();
      seed(api);
      const items = [
        service('prod', 'db', { clusterIPs: ['10.96.0.10'], ports: http80 }),
        { metadata: { name: 'bad', namespace: 'prod' }, spec: { clusterIP: '10.96.0.300' } },
        null,
      ];
      api.answerNextList(JSON.stringify({ items, metadata: { resourceVersion: String(api.resourceVersion) } }), 'services');
      const r = await hostile(api);
      expect(await r.feed.waitForSync(5000)).to.equal(true);
      expect(await r.answers('db.prod.svc.cluster.local')).to.have.length(1);
      expect((await r.ask('bad.prod.svc.cluster.local')).rcode).to.equal(Rcode.NXDOMAIN);
      expect(counted).to.deep.equal(['services', 'services']);
    });
  });
});
