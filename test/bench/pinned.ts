// The issue-13 section: every path pinned to one core (the server on CPU 1, dnsperf on CPU 0), measured
// in interleaved rounds and reported as ratios to the Node ceiling measured in the same round on the same
// query file (cluster names are longer than hosts names: every server, the ceiling too, pays for that); then a
// fixed 10k QPS run per server checking lost queries, the kernel's UDP receive-buffer drops and the tail.
// The machine is shared, so absolute QPS is noise: a ratio within one round is what the targets compare.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dnsperf, type PerfResult } from './dnsperf.js';
import type { Running } from './processes.js';
import type { BenchContext } from './run.js';
import { writeReport, type ReportData } from './report.js';

const SERVER_CPU = 1;
const DNSPERF_CPU = 0;
const FIXED_RATE = 10_000;

/** The query files: a path is compared with the Node ceiling answering the same one (longer names cost every server more). */
type QuerySet = 'hosts' | 'forward' | 'cluster';
const QUERY_FILES: Record<QuerySet, (ctx: BenchContext) => string> = {
  hosts: (c) => c.data.hostsQueries,
  forward: (c) => c.data.forwardQueries,
  cluster: (c) => c.data.k8sQueries,
};

interface PathSpec {
  readonly name: string;
  /** The issue's target as a ratio to the ceiling, if it sets one. */
  readonly target?: number;
  readonly querySet: QuerySet;
  /** A Node ceiling: the reference of the paths asked the same query file. */
  readonly ceiling?: true;
  readonly start: (ctx: BenchContext, cpu: number | undefined, upstreamPort: number) => Promise<Running>;
  /** Also measured at the fixed rate (lost, RcvbufErrors, p99). */
  readonly fixedRate?: boolean;
}

/** Corefile.example on loopback: free ports for health/ready/metrics, the bench's manifests, dnsmasq upstream. */
export function stockCorefile(ctx: BenchContext, upstreamPort: number): string {
  return `.:PORT {
    bind 127.0.0.1
    errors
    health 127.0.0.1:0 {
       lameduck 5s
    }
    ready 127.0.0.1:0
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       manifests ${ctx.data.k8sManifests}
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus 127.0.0.1:0
    forward . 127.0.0.1:${upstreamPort} {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;
}

const hostsBlock = (ctx: BenchContext) => `  hosts ${ctx.data.hostsFile} {\n    reload 0\n  }\n`;

export const PATHS: readonly PathSpec[] = [
  { name: 'node ceiling (pre-built bytes), hosts names', querySet: 'hosts', ceiling: true, start: (c, cpu) => c.startCeiling(cpu) },
  { name: 'node ceiling, forward names', querySet: 'forward', ceiling: true, start: (c, cpu) => c.startCeiling(cpu) },
  { name: 'node ceiling, cluster names', querySet: 'cluster', ceiling: true, start: (c, cpu) => c.startCeiling(cpu) },
  { name: 'dnsmasq (hosts)', querySet: 'hosts', start: (c, cpu) => c.startDnsmasq('dnsmasq (hosts)', [`--addn-hosts=${c.data.hostsFile}`], cpu), fixedRate: true },
  { name: 'nodens hosts', target: 0.9, querySet: 'hosts', start: (c, cpu) => c.startNodens('nodens hosts', `.:PORT {\n  bind 127.0.0.1\n${hostsBlock(c)}}\n`, [], undefined, cpu), fixedRate: true },
  { name: 'nodens cache hit (cache + forward)', target: 0.9, querySet: 'forward', start: (c, cpu, up) => c.startNodens('nodens cache hit', `.:PORT {\n  bind 127.0.0.1\n  cache 3600\n  forward . 127.0.0.1:${up}\n}\n`, [], undefined, cpu) },
  { name: 'nodens kubernetes, no cache (5k svc)', target: 0.8, querySet: 'cluster', start: (c, cpu) => c.startNodens('nodens kubernetes', `cluster.local:PORT {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${c.data.k8sManifests}\n  }\n}\n`, [], undefined, cpu) },
  { name: 'nodens stock Corefile (warm cache, cluster names)', target: 0.85, querySet: 'cluster', start: (c, cpu, up) => c.startNodens('nodens stock Corefile', stockCorefile(c, up), [], undefined, cpu), fixedRate: true },
];

/** Each path's reference: the ceiling row asked the same query file. */
const CEILING_OF = PATHS.map((p) => PATHS.findIndex((c) => c.ceiling && c.querySet === p.querySet));

/** The UDP line of /proc/net/snmp: receive-buffer drops, machine-wide (other processes on the host count too). */
export function udpRcvbufErrors(): number {
  const lines = fs.readFileSync('/proc/net/snmp', 'utf8').split('\n').filter((l) => l.startsWith('Udp:'));
  const names = lines[0]!.split(/\s+/);
  const values = lines[1]!.split(/\s+/);
  return Number(values[names.indexOf('RcvbufErrors')]);
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function argValue(flag: string): string | undefined {
  const i = process.argv.indexOf(flag);
  return i >= 0 ? process.argv[i + 1] : undefined;
}

export interface PinnedRow {
  name: string;
  target?: number;
  qps: number[];
  ratios: number[];
  /** The ceiling's CPU µs/query over this path's, per round: steadier than QPS when the core is shared. */
  cpuRatios: number[];
  cpuUs: number[];
  rssMb: number;
}

export interface FixedRow {
  name: string;
  result: PerfResult;
  rcvbufErrors: number;
}

export async function runPinned(ctx: BenchContext): Promise<void> {
  const rounds = Number(argValue('--rounds') ?? 3);
  const pin = os.availableParallelism() >= 2;
  const serverCpu = pin ? SERVER_CPU : undefined;
  const perfCpu = pin ? DNSPERF_CPU : undefined;
  const load0 = os.loadavg();
  const upstream = await ctx.startDnsmasq('dnsmasq upstream', ['--address=/fwd.test/10.9.9.9'], perfCpu);
  const servers: Running[] = [];
  try {
    for (const p of PATHS) servers.push(await p.start(ctx, serverCpu, upstream.port));
    const rows: PinnedRow[] = PATHS.map((p) => ({ name: p.name, ...(p.target ? { target: p.target } : {}), qps: [], ratios: [], cpuRatios: [], cpuUs: [], rssMb: 0 }));
    // Warm-up: JIT, caches (the stock Corefile's cache fills from kubernetes here).
    for (let i = 0; i < PATHS.length; i++) await dnsperf({ port: servers[i]!.port, queryFile: QUERY_FILES[PATHS[i]!.querySet](ctx), seconds: 2, cpu: perfCpu });
    for (let round = 0; round < rounds; round++) {
      // Each round in a rotated order, so no path always runs first or last in a drift of the machine's speed.
      const order = PATHS.map((_, i) => (i + round) % PATHS.length);
      if (round % 2 === 1) order.reverse();
      const qps = new Array<number>(PATHS.length);
      for (const i of order) {
        const server = servers[i]!;
        const cpu0 = server.cpuMs();
        const r = await dnsperf({ port: server.port, queryFile: QUERY_FILES[PATHS[i]!.querySet](ctx), seconds: ctx.seconds, cpu: perfCpu });
        qps[i] = r.qps;
        rows[i]!.qps.push(r.qps);
        rows[i]!.cpuUs.push(((server.cpuMs() - cpu0) * 1000) / Math.max(1, r.completed));
      }
      for (let i = 0; i < PATHS.length; i++) {
        const c = CEILING_OF[i]!;
        rows[i]!.ratios.push(qps[i]! / qps[c]!);
        rows[i]!.cpuRatios.push(rows[c]!.cpuUs[round]! / rows[i]!.cpuUs[round]!);
      }
    }
    for (let i = 0; i < PATHS.length; i++) rows[i]!.rssMb = servers[i]!.rssMb();

    const fixed: FixedRow[] = [];
    for (let i = 0; i < PATHS.length; i++) {
      if (!PATHS[i]!.fixedRate) continue;
      const server = servers[i]!;
      const queryFile = QUERY_FILES[PATHS[i]!.querySet](ctx);
      await dnsperf({ port: server.port, queryFile, seconds: 2, rate: FIXED_RATE, cpu: perfCpu });
      const before = udpRcvbufErrors();
      const result = await dnsperf({ port: server.port, queryFile, seconds: ctx.seconds, rate: FIXED_RATE, cpu: perfCpu });
      fixed.push({ name: PATHS[i]!.name, result, rcvbufErrors: udpRcvbufErrors() - before });
    }
    const load1 = os.loadavg();
    const loadText = `load average ${load0[0]!.toFixed(1)} at the start, ${load1[0]!.toFixed(1)} at the end, ${os.cpus().length} cores`;
    printPinned(rows, fixed, rounds, pin, loadText);
    const reportDir = argValue('--report') ?? path.resolve(import.meta.dirname, '../../docs/bench');
    const data: ReportData = { when: new Date().toISOString(), node: process.version, rounds, seconds: ctx.seconds, pinned: pin, load: loadText, rows, fixed, rate: FIXED_RATE };
    writeReport(reportDir, data);
    console.log(`\nreport: ${path.join(reportDir, 'index.html')} (qps.svg, latency.svg, latest.json)`);
  } finally {
    for (const s of servers) await s.stop();
    await upstream.stop();
  }
}

function printPinned(rows: PinnedRow[], fixed: FixedRow[], rounds: number, pin: boolean, load: string): void {
  const f2 = (n: number) => n.toFixed(2);
  const lines = [
    `\n## pinned: QPS as a ratio to the Node ceiling asked the same names in the same round (${rounds} interleaved rounds; ${pin ? `server on CPU ${SERVER_CPU}, dnsperf on CPU ${DNSPERF_CPU}` : 'not pinned: fewer than 2 CPUs'}; ${load})`,
    '| path | QPS ratio median | QPS ratio range | target | CPU ratio median (range) | QPS median | CPU µs/query | RSS MB |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const met = r.target === undefined ? '' : median(r.ratios) >= r.target ? ` ≥ ${r.target} met` : ` ≥ ${r.target} NOT met`;
    lines.push(`| ${r.name} | ${f2(median(r.ratios))} | ${f2(Math.min(...r.ratios))}–${f2(Math.max(...r.ratios))} | ${met} | ${f2(median(r.cpuRatios))} (${f2(Math.min(...r.cpuRatios))}–${f2(Math.max(...r.cpuRatios))}) | ${median(r.qps).toFixed(0)} | ${median(r.cpuUs).toFixed(1)} | ${r.rssMb.toFixed(0)} |`);
  }
  lines.push('CPU ratio: the ceiling\'s CPU µs per query over the path\'s in the same round (what QPS would be if each had the core to itself).');
  lines.push(`\n## pinned: a fixed ${FIXED_RATE} qps for the run's seconds (RcvbufErrors: the change in /proc/net/snmp's Udp line during the run, machine-wide)`);
  lines.push('| server | lost | RcvbufErrors | p50 ms | p99 ms | p99.9 ms | p99 vs dnsmasq |', '|---|---:|---:|---:|---:|---:|---:|');
  const dnsmasq = fixed.find((f) => f.name.startsWith('dnsmasq'));
  for (const f of fixed) {
    const vs = dnsmasq ? f2(f.result.p99Ms / dnsmasq.result.p99Ms) : '-';
    lines.push(`| ${f.name} | ${f.result.lost} | ${f.rcvbufErrors} | ${f.result.p50Ms.toFixed(3)} | ${f.result.p99Ms.toFixed(3)} | ${f.result.p999Ms.toFixed(3)} | ${vs}× |`);
  }
  console.log(lines.join('\n'));
}
