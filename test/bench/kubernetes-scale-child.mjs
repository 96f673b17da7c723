// The measured side of test/bench/kubernetes-scale.ts: feeds a kubernetes index from the API server given as
// argv[2], reports sync time and memory (after sync, and after answering queries for every Service), then
// reports each served answer of the probe Service. argv[3] is the root to import from: dist/ (compiled,
// plain node) or the source tree (under tsx). argv[4]: the number of Services, for the query names.
import { pathToFileURL } from 'node:url';
import v8 from 'node:v8';

const [url, root, services] = [process.argv[2], process.argv[3], Number(process.argv[4] ?? 0)];
const load = (p) => import(pathToFileURL(`${root}/${p}`).href);
const { ServiceIndex } = await load('plugins/kubernetes/service-index.js');
const { startApiFeed } = await load('plugins/kubernetes/feed-api.js');
const { KubernetesHandler } = await load('plugins/kubernetes/kubernetes.js');
const { createLogger } = await load('core/log.js');
const { makeQuery } = await load('core/message.js');
const { SLOW_PATH } = await load('core/plugin.js');

const now = () => performance.timeOrigin + performance.now();
const index = new ServiceIndex();
const t0 = performance.now();
// K8S_BENCH_PODS=1: the pod watch of `pods verified` (autopath's client index) is on.
const feed = startApiFeed(index, { endpoint: url, pods: process.env.K8S_BENCH_PODS === '1' }, createLogger({ quiet: true }));
if (!(await feed.waitForSync(600_000))) throw new Error('no sync');
const syncMs = performance.now() - t0;
// The feed's own memory release runs after the sync's turn; then a quiet moment, as a server has one.
await new Promise((r) => setTimeout(r, 200));
const memory = () => ({ ...process.memoryUsage(), spaces: v8.getHeapSpaceStatistics().filter((s) => s.space_size > 0).map((s) => `${s.space_name.replace(/_space$/, '')} ${Math.round(s.space_size / 2 ** 20)}/${Math.round(s.space_used_size / 2 ** 20)}`).join(', ') });
const synced = memory();
const h = new KubernetesHandler({
  index, zones: ['cluster.local'], primaryZone: 'cluster.local', ttl: 5, podMode: 'disabled', namespaces: undefined,
  ignoreEmptyService: false, fall: undefined, localIPs: () => ['127.0.0.1'], resolve: () => Promise.reject(new Error('none')),
});
const request = (qname, qtype) => ({ query: makeQuery(qname, qtype), qname, qtype, qclass: 'IN' });
const fail = () => { throw new Error('fell through'); };
// Under load: an A query for each Service in turn, 200,000 in all, in batches that let the loop turn, the way
// the server runs them: the fast path's hook first (the answers the handler keeps as bytes), serve() when it
// says so (the first query of each name). The young generation grows back with the allocation rate (up to
// twice --max-semi-space-size).
const answered = services > 0 ? 200_000 : 0;
for (let i = 0; i < answered;) {
  for (const end = Math.min(answered, i + 5000); i < end; i++) {
    const req = request(`svc-${i % services}.ns-${i % services % 100}.svc.cluster.local`, 'A');
    const kept = h.fast.answer(req);
    if (kept === undefined || kept === SLOW_PATH) await h.serve(req, fail);
  }
  await new Promise((r) => setImmediate(r));
}
const loaded = memory();
const req = request('probe.bench.svc.cluster.local', 'A');
index.onChange((c) => {
  if (c.name !== 'probe' || c.namespace !== 'bench') return;
  const m = h.serve(req, fail);
  const a = m.answer[0];
  if (a?.type === 'A') process.send({ ip: a.data, t: now() });
});
process.send({ syncMs, synced, loaded, answered, pods: index.size.pods });
