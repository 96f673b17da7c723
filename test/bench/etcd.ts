// The etcd bench section: QPS of the etcd plugin serving the hosts section's 1,000 names from a real
// etcd (SkyDNS records), and the delay from a Service event in the API stand-in, through kube2sky and
// etcd, to the record being served by a nodens etcd server.
import dgram from 'node:dgram';
import { makeQuery } from '../../core/message.js';
import { encodeMessage } from '../../core/wire.js';
import { createLogger } from '../../core/log.js';
import { createClient } from '../../plugins/etcd/client.js';
import { runKube2Sky } from '../../plugins/etcd/kube2sky/index.js';
import { startEtcd, type EtcdFixture } from '../fixtures/etcd.js';
import { FakeApiServer } from '../fixtures/k8s-api-server.js';
import { namespace, service } from '../fixtures/k8s-objects.js';
import { NAMES } from './data.js';
import { printTable, type BenchContext, type Row } from './run.js';

/** Services added one at a time for the propagation delay. */
const SERVICES = 50;
/** How often the server is asked while the record is not there yet, and for how long at most. */
const POLL_MS = 2;
const POLL_LIMIT_MS = 5000;

export async function runEtcdBench(ctx: BenchContext, hosts: Row | undefined): Promise<void> {
  const store = await startEtcd();
  try {
    await writeHostRecords(store.endpoint);
    await qps(ctx, hosts, store);
    await propagation(ctx, store);
  } finally {
    await store.close();
  }
}

/** /skydns/test/bench/host-N → the hosts file's address of host-N.bench.test (100 puts in flight at a time). */
async function writeHostRecords(endpoint: string): Promise<void> {
  const client = createClient({ endpoints: [endpoint] });
  try {
    for (let start = 0; start < NAMES; start += 100) {
      const puts: Promise<unknown>[] = [];
      for (let i = start; i < Math.min(NAMES, start + 100); i++) {
        const host = `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`;
        puts.push(client.put(`/skydns/test/bench/host-${i}`).value(JSON.stringify({ host })).exec());
      }
      await Promise.all(puts);
    }
  } finally {
    client.close();
  }
}

async function qps(ctx: BenchContext, hosts: Row | undefined, store: EtcdFixture): Promise<void> {
  const server = await ctx.startNodens('nodens (etcd)', `bench.test:PORT {\n  bind 127.0.0.1\n  etcd bench.test {\n    endpoint ${store.endpoint}\n  }\n}\n`);
  try {
    // The mirror must hold the records before dnsperf starts, or the run measures NXDOMAINs.
    const last = `host-${NAMES - 1}.bench.test`;
    if (!(await answersWithin(server.port, last, 10_000))) throw new Error(`nodens (etcd) does not answer ${last}:\n${server.output()}`);
    const row = await ctx.measure(server);
    row.fixed = await ctx.measureAtRate(server, 10_000);
    printTable('etcd: the same 1,000 names as SkyDNS records in etcd (in-memory mirror fed by a watch), vs hosts', hosts ? [hosts, row] : [row]);
  } finally {
    await server.stop();
  }
}

/** Asks `name` A every POLL_MS until an answer with records arrives; resolves with the time it did, or undefined. */
function answersWithin(port: number, name: string, limitMs = POLL_LIMIT_MS): Promise<number | undefined> {
  const sock = dgram.createSocket('udp4');
  const wire = encodeMessage(makeQuery(name, 'A', { id: 4242 }));
  return new Promise((resolve) => {
    const done = (at: number | undefined) => {
      clearInterval(timer);
      clearTimeout(limit);
      sock.close();
      resolve(at);
    };
    // NOERROR (rcode in the low bits of byte 3) with at least one answer record.
    sock.on('message', (msg) => {
      if (msg.length >= 12 && (msg[3]! & 15) === 0 && msg.readUInt16BE(6) > 0) done(performance.now());
    });
    const send = () => sock.send(wire, port, '127.0.0.1');
    const timer = setInterval(send, POLL_MS);
    const limit = setTimeout(() => done(undefined), limitMs);
    send();
  });
}

const percentile = (sorted: number[], p: number) => sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;

async function propagation(ctx: BenchContext, store: EtcdFixture): Promise<void> {
  const api = await FakeApiServer.start();
  const server = await ctx.startNodens('nodens (etcd, cluster.local)', `cluster.local:PORT {\n  bind 127.0.0.1\n  etcd cluster.local {\n    endpoint ${store.endpoint}\n  }\n}\n`);
  const sync = runKube2Sky({
    etcd: { endpoints: [store.endpoint] },
    kubernetes: { endpoint: api.url },
    resyncMs: 0,
    logger: createLogger({ quiet: true }),
  });
  try {
    api.add('namespaces', namespace('bench'));
    await sync.idle();
    const written = new Map<string, number>();
    sync.sync.on('written', (_ns: string, name: string) => written.set(name, performance.now()));
    const served: number[] = [];
    const inEtcd: number[] = [];
    for (let i = 0; i < SERVICES; i++) {
      const name = `svc-${i}`;
      const t0 = performance.now();
      api.add('services', service('bench', name, { clusterIPs: [`10.96.200.${i + 1}`], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] }));
      const at = await answersWithin(server.port, `${name}.bench.svc.cluster.local`);
      if (at === undefined) throw new Error(`${name}.bench.svc.cluster.local not served within ${POLL_LIMIT_MS} ms`);
      served.push(at - t0);
      const w = written.get(name);
      if (w !== undefined) inEtcd.push(w - t0);
    }
    const line = (label: string, values: number[]) => {
      const s = [...values].sort((a, b) => a - b);
      return `| ${label} | ${s.length} | ${percentile(s, 50).toFixed(1)} | ${percentile(s, 99).toFixed(1)} | ${s[s.length - 1]!.toFixed(1)} |`;
    };
    console.log(`\n## etcd: Service event → record served through etcd (API stand-in → kube2sky → etcd → nodens etcd mirror), ${SERVICES} Services one at a time, polled over UDP every ${POLL_MS} ms`);
    console.log('| stage | n | p50 ms | p99 ms | max ms |\n|---|---:|---:|---:|---:|');
    console.log(line('event → transaction committed in etcd (kube2sky)', inEtcd));
    console.log(line('event → answered by nodens (etcd plugin)', served));
  } finally {
    await sync.stop();
    await server.stop();
    await api.close();
  }
}
