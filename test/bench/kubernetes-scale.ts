// Kubernetes scale benchmark (a script, not a test): the stand-in API server with N Services x 10 endpoints,
// the plugin's index fed by the API feed in a child process (kubernetes-scale-child.mjs, compiled code from
// dist/ when built, so its RSS is its own and not tsx's, on the image's node flags), measuring initial sync
// time, memory after sync and after 200,000 answers, and the time from a watch event leaving the API
// server to the new answer being served.
//   node --import=tsx test/bench/kubernetes-scale.ts [N...]
// K8S_BENCH_NODE_FLAGS='...' replaces the image's flags (Dockerfile NODE_OPTIONS) for an experiment.
import { fork } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { FakeApiServer } from '../fixtures/k8s-api-server.js';
import { shippedNodeFlags } from './node-flags.js';
import type { KEndpointSlice, KService } from '../../plugins/kubernetes/objects.js';

export interface ScaleResult {
  readonly services: number;
  readonly endpoints: number;
  readonly syncMs: number;
  /** Right after sync (and the feed's memory release). */
  readonly synced: Memory;
  /** After `answered` A queries spread over every Service. */
  readonly loaded: Memory;
  readonly answered: number;
  /** Event → answer latency, when measured at this size. */
  readonly p50Ms?: number;
  readonly p99Ms?: number;
}

/** process.memoryUsage() in MB, and the V8 heap spaces (committed/used MB). */
export interface Memory {
  readonly rss: number;
  readonly heapUsed: number;
  readonly heapTotal: number;
  readonly external: number;
  readonly arrayBuffers: number;
  readonly spaces: string;
}

export interface ScaleOptions {
  readonly sizes?: readonly number[];
  /** Watch events timed per size (0: none). */
  readonly events?: number;
  readonly log?: (line: string) => void;
}

const ENDPOINTS_PER_SERVICE = 10;
const PROBE = { ns: 'bench', name: 'probe' };
const now = (): number => performance.timeOrigin + performance.now();
const ip = (base: number, k: number): string => `${base + (k >>> 16)}.${(k >>> 8) & 255}.${k & 255}`;

function makeService(i: number): KService {
  return {
    apiVersion: 'v1', kind: 'Service',
    metadata: { name: `svc-${i}`, namespace: `ns-${i % 100}`, labels: { app: `svc-${i}`, 'app.kubernetes.io/part-of': 'bench' }, ...realisticMeta(i) },
    spec: { type: 'ClusterIP', clusterIP: `10.${ip(96, i)}`, clusterIPs: [`10.${ip(96, i)}`], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
  } as KService;
}

function makeSlice(i: number): KEndpointSlice {
  const endpoints = [];
  for (let j = 0; j < ENDPOINTS_PER_SERVICE; j++) {
    const k = i * ENDPOINTS_PER_SERVICE + j;
    endpoints.push({
      addresses: [`100.${ip(64, k)}`], conditions: { ready: true, serving: true, terminating: false },
      nodeName: `node-${k % 50}`, zone: 'zone-a', targetRef: { kind: 'Pod', name: `svc-${i}-7d9f8b-${j}x`, namespace: `ns-${i % 100}`, uid: `uid-${k}` },
    });
  }
  return {
    apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
    metadata: { name: `svc-${i}-abcde`, namespace: `ns-${i % 100}`, labels: { 'kubernetes.io/service-name': `svc-${i}`, 'endpointslice.kubernetes.io/managed-by': 'endpointslice-controller.k8s.io' }, ...realisticMeta(i) },
    addressType: 'IPv4', endpoints, ports: [{ name: 'http', port: 80, protocol: 'TCP' }],
  } as KEndpointSlice;
}

/** Fields a real object carries and the plugin drops. */
function realisticMeta(i: number): Record<string, unknown> {
  return { uid: `0b6f1c2e-${i}`, creationTimestamp: '2024-05-01T10:00:00Z', generation: 1, annotations: { 'bench/note': 'x'.repeat(40) } };
}

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const CHILD = fileURLToPath(new URL('./kubernetes-scale-child.mjs', import.meta.url));

/** The node flags the child runs with: the image's, unless K8S_BENCH_NODE_FLAGS says otherwise. */
export function childNodeFlags(): string[] {
  const env = process.env.K8S_BENCH_NODE_FLAGS;
  return env !== undefined ? env.split(' ').filter(Boolean) : shippedNodeFlags();
}

/** Compiled code (npm run build) under plain node when there is some: tsx alone costs ~85 MB of RSS. */
function forkChild(url: string, services: number): ReturnType<typeof fork> {
  const dist = join(ROOT, 'dist');
  // NODE_OPTIONS cleared: the flags are given, and a parent's (tsx's loader) would be inherited.
  const env = { ...process.env, NODE_OPTIONS: '' };
  if (existsSync(join(dist, 'plugins/kubernetes/service-index.js'))) return fork(CHILD, [url, dist, String(services)], { execArgv: childNodeFlags(), env });
  return fork(CHILD, [url, ROOT, String(services)], { execArgv: [...process.execArgv, ...childNodeFlags()] });
}

const MB = (bytes: number) => bytes / 2 ** 20;
const inMB = (m: NodeJS.MemoryUsage & { spaces: string }): Memory => ({
  rss: MB(m.rss), heapUsed: MB(m.heapUsed), heapTotal: MB(m.heapTotal), external: MB(m.external), arrayBuffers: MB(m.arrayBuffers), spaces: m.spaces,
});

function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}

/** Runs one size: API server here, the index in a child process. */
async function runSize(n: number, events: number): Promise<ScaleResult> {
  const api = await FakeApiServer.start();
  const namespaces = Array.from({ length: 100 }, (_, i) => ({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${i}` } }));
  api.seed('namespaces', [...namespaces, { apiVersion: 'v1', kind: 'Namespace', metadata: { name: PROBE.ns } }]);
  api.seed('services', (function* () { for (let i = 0; i < n; i++) yield makeService(i); })());
  api.seed('endpointslices', (function* () { for (let i = 0; i < n; i++) yield makeSlice(i); })());
  const child = forkChild(api.url, n);
  type Report = { syncMs: number; synced: NodeJS.MemoryUsage & { spaces: string }; loaded: NodeJS.MemoryUsage & { spaces: string }; answered: number };
  try {
    const report = await new Promise<Report>((resolve, reject) => {
      child.once('message', (m) => resolve(m as Report));
      child.once('exit', (code) => reject(new Error(`bench child exited with ${code}`)));
    });
    let p50: number | undefined;
    let p99: number | undefined;
    if (events > 0) {
      const lat = await measureEvents(api, child, events);
      p50 = percentile(lat, 50);
      p99 = percentile(lat, 99);
    }
    return {
      services: n, endpoints: n * ENDPOINTS_PER_SERVICE, syncMs: report.syncMs, synced: inMB(report.synced), loaded: inMB(report.loaded), answered: report.answered,
      ...(p50 !== undefined ? { p50Ms: p50, p99Ms: p99! } : {}),
    };
  } finally {
    child.kill();
    await api.close();
  }
}

/** Updates the probe Service's IP `events` times, one at a time; the child reports when it serves each. */
async function measureEvents(api: FakeApiServer, child: ReturnType<typeof fork>, events: number): Promise<number[]> {
  const latencies: number[] = [];
  for (let i = 0; i < events; i++) {
    const want = `10.250.${(i >> 8) & 255}.${i & 255}`;
    const seen = new Promise<number>((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error(`event ${i} not served within 5s`)), 5000);
      const on = (m: unknown) => {
        const msg = m as { ip?: string; t?: number };
        if (msg.ip !== want) return;
        clearTimeout(timer);
        child.off('message', on);
        resolve(msg.t!);
      };
      child.on('message', on);
    });
    const t0 = now();
    api.update('services', { apiVersion: 'v1', kind: 'Service', metadata: { name: PROBE.name, namespace: PROBE.ns }, spec: { type: 'ClusterIP', clusterIP: want, clusterIPs: [want], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] } });
    latencies.push((await seen) - t0);
    await new Promise((r) => setTimeout(r, 2));
  }
  return latencies.sort((a, b) => a - b);
}

/** Runs the sizes and returns the figures (npm run bench calls this). */
export async function runKubernetesScaleBench(opts: ScaleOptions = {}): Promise<ScaleResult[]> {
  const sizes = opts.sizes ?? [0, 1_000, 10_000, 50_000];
  const log = opts.log ?? ((l: string) => console.log(l));
  log(`kubernetes scale: node ${childNodeFlags().join(' ') || '(no flags)'}; memory in MB after sync, and after 200,000 A answers`);
  const results: ScaleResult[] = [];
  for (const n of sizes) {
    const r = await runSize(n, n === 10_000 ? (opts.events ?? 300) : 0);
    results.push(r);
    log(formatRow(r));
  }
  return results;
}

const mem = (m: Memory): string =>
  `RSS ${m.rss.toFixed(0).padStart(4)}  heap ${m.heapUsed.toFixed(0).padStart(3)}/${m.heapTotal.toFixed(0).padStart(3)}  ext ${m.external.toFixed(0)}/${m.arrayBuffers.toFixed(0)}`;

export function formatRow(r: ScaleResult): string {
  const lat = r.p50Ms !== undefined ? `\n    event→answer p50 ${r.p50Ms.toFixed(2)} ms, p99 ${r.p99Ms!.toFixed(2)} ms` : '';
  const spaces = process.env.K8S_BENCH_DEBUG ? `\n    spaces after sync: ${r.synced.spaces}\n    after answers:     ${r.loaded.spaces}` : '';
  return `kubernetes scale: ${String(r.services).padStart(6)} services ${String(r.endpoints).padStart(7)} endpoints  sync ${(r.syncMs / 1000).toFixed(2).padStart(5)} s`
    + `  synced: ${mem(r.synced)}  answering: ${mem(r.loaded)}${lat}${spaces}`;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  const sizes = process.argv.slice(2).map(Number).filter((n) => Number.isFinite(n));
  runKubernetesScaleBench(sizes.length > 0 ? { sizes } : {}).then(() => process.exit(0), (err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
