// Memory of the pod watch autopath needs (`pods verified`): the same cluster (1,000 Services x 10 endpoints and
// N pods) synced by a child process with the pod watch off and on; the difference is the pod index's cost.
//   npm run build && node --import=tsx test/bench/autopath-pods.ts [N]
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from '../fixtures/k8s-api-server.js';
import type { KPod } from '../../plugins/kubernetes/objects.js';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./kubernetes-scale-child.mjs', import.meta.url));

/** A pod as the API serves it, with the fields a real one carries (the feed trims them away). */
function makePod(i: number): KPod {
  return {
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `app-${i}-7d9f8b-x${i % 97}`, namespace: `ns-${i % 100}`, labels: { app: `app-${i % 500}`, 'pod-template-hash': '7d9f8b' }, uid: `uid-${i}`, creationTimestamp: '2024-05-01T10:00:00Z', resourceVersion: String(1000 + i) },
    spec: { nodeName: `node-${i % 50}`, containers: [{ name: 'app', image: 'registry.example/app:1.2.3', ports: [{ containerPort: 8080 }] }] },
    status: { phase: 'Running', podIP: `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}`, podIPs: [{ ip: `100.${64 + (i >> 16)}.${(i >> 8) & 255}.${i & 255}` }], hostIP: `192.168.0.${i % 50}` },
  } as unknown as KPod;
}

async function run(pods: boolean, n: number): Promise<{ rss: number; heap: number; pods: number; syncMs: number }> {
  const api = await FakeApiServer.start();
  api.seed('namespaces', Array.from({ length: 100 }, (_, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } })));
  api.seed('pods', (function* () { for (let i = 0; i < n; i++) yield makePod(i); })());
  const dist = join(ROOT, 'dist');
  const compiled = existsSync(join(dist, 'plugins/kubernetes/service-index.js'));
  const child = fork(CHILD, [api.url, compiled ? dist : ROOT], {
    execArgv: compiled ? ['--expose-gc'] : [...process.execArgv, '--expose-gc'], env: { ...process.env, K8S_BENCH_PODS: pods ? '1' : '0' },
  });
  try {
    return await new Promise((resolve, reject) => {
      child.once('message', (m) => {
        const r = m as { synced: { rss: number; heapUsed: number }; pods: number; syncMs: number };
        resolve({ rss: r.synced.rss, heap: r.synced.heapUsed, pods: r.pods, syncMs: r.syncMs });
      });
      child.once('exit', (code) => reject(new Error(`child exited with ${code}`)));
    });
  } finally {
    child.kill();
    await api.close();
  }
}

const n = Number(process.argv[2] ?? 10_000);
const off = await run(false, n);
const on = await run(true, n);
const mb = (b: number) => (b / 2 ** 20).toFixed(1);
console.log(`pod watch off: RSS ${mb(off.rss)} MB heap ${mb(off.heap)} MB`);
console.log(`pod watch on:  RSS ${mb(on.rss)} MB heap ${mb(on.heap)} MB  (${on.pods} pods indexed, sync ${(on.syncMs / 1000).toFixed(2)} s)`);
console.log(`cost of ${n} pods: heap +${mb(on.heap - off.heap)} MB (${Math.round((on.heap - off.heap) / n)} bytes a pod), RSS +${mb(on.rss - off.rss)} MB`);
