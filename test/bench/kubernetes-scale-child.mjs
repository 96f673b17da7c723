// The measured side of test/bench/kubernetes-scale.ts: feeds a kubernetes index from the API server given as
// argv[2], reports sync time and memory, then reports each served answer of the probe Service.
// argv[3] is the root to import from: dist/ (compiled, plain node) or the source tree (under tsx).
import { pathToFileURL } from 'node:url';

const [url, root] = [process.argv[2], process.argv[3]];
const load = (p) => import(pathToFileURL(`${root}/${p}`).href);
const { ServiceIndex } = await load('plugins/kubernetes/service-index.js');
const { startApiFeed } = await load('plugins/kubernetes/feed-api.js');
const { KubernetesHandler } = await load('plugins/kubernetes/kubernetes.js');
const { createLogger } = await load('core/log.js');
const { makeQuery } = await load('core/message.js');

const now = () => performance.timeOrigin + performance.now();
const index = new ServiceIndex();
const t0 = performance.now();
// K8S_BENCH_PODS=1: the pod watch of `pods verified` (autopath's client index) is on.
const feed = startApiFeed(index, { endpoint: url, pods: process.env.K8S_BENCH_PODS === '1' }, createLogger({ quiet: true }));
if (!(await feed.waitForSync(600_000))) throw new Error('no sync');
const syncMs = performance.now() - t0;
for (let i = 0; i < 3; i++) {
  globalThis.gc?.();
  await new Promise((r) => setTimeout(r, 200));
}
const mem = process.memoryUsage();
const h = new KubernetesHandler({
  index, zones: ['cluster.local'], primaryZone: 'cluster.local', ttl: 5, podMode: 'disabled', namespaces: undefined,
  ignoreEmptyService: false, fall: undefined, localIPs: () => ['127.0.0.1'], resolve: () => Promise.reject(new Error('none')),
});
const qname = 'probe.bench.svc.cluster.local';
const query = makeQuery(qname, 'A');
const req = { query, qname, qtype: 'A', qclass: 'IN' };
index.onChange((c) => {
  if (c.name !== 'probe' || c.namespace !== 'bench') return;
  const m = h.serve(req, () => { throw new Error('fell through'); });
  const a = m.answer[0];
  if (a?.type === 'A') process.send({ ip: a.data, t: now() });
});
if (process.env.K8S_BENCH_DEBUG) console.error((await import('node:v8')).getHeapSpaceStatistics().map((s) => `${s.space_name} ${Math.round(s.space_size / 2 ** 20)}/${Math.round(s.space_used_size / 2 ** 20)}`).join(', '), JSON.stringify(Object.fromEntries(Object.entries(mem).map(([k, v]) => [k, Math.round(v / 2 ** 20)]))), index.size);
process.send({ syncMs, rss: mem.rss, heap: mem.heapUsed, pods: index.size.pods });
