// `npm run bench`: dnsperf against nodens and reference servers on loopback, in the same run, printed as
// tables with ratios. Not a test: it asserts nothing, it measures. Flags: --seconds N, --only a,b,
// --node PATH[,PATH...] (the Node binaries nodens runs on: the first for every section, all of them for `runtimes`).
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { dnsperf, type PerfResult } from './dnsperf.js';
import { shippedNodeFlags } from './node-flags.js';
import { freePort, startProcess, stopAll, type Running } from './processes.js';
import { writeData, type BenchData } from './data.js';
import { extraSections } from './sections.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const CLI = path.join(ROOT, 'dist/bin/nodens.js');
/** The V8 flags the image runs nodens with (Dockerfile NODE_OPTIONS): the bench measures what ships. */
const NODE_FLAGS = shippedNodeFlags();

export interface BenchContext {
  readonly seconds: number;
  readonly dir: string;
  readonly data: BenchData;
  /** The Node binaries given with --node (default: the one running the bench); nodens runs on the first. */
  readonly nodes: readonly string[];
  /** `cpu`: pin the server (and its workers) to that CPU with taskset. */
  startNodens(name: string, corefile: string, extraArgs?: string[], node?: string, cpu?: number): Promise<Running>;
  startDnsmasq(name: string, extraArgs?: string[], cpu?: number): Promise<Running>;
  /** The Node ceiling: a dgram server answering with pre-built bytes, on the first --node binary. */
  startCeiling(cpu?: number): Promise<Running>;
  /** `clients`: dnsperf -c (default 4); many clients spread over reusePort sockets as real clients do. */
  measure(server: Running, queryFile?: string, clients?: number, outstanding?: number): Promise<Row>;
  measureAtRate(server: Running, rate: number, queryFile?: string): Promise<PerfResult>;
}

export interface Row {
  name: string;
  full: PerfResult;
  /** Server CPU time per answered query at full load (user + system), in µs: steadier than QPS on a shared VM. */
  cpuUs?: number;
  fixed?: PerfResult;
  rssMb: number;
}

function args(): { seconds: number; only: string[] | undefined; nodes: string[] } {
  const argv = process.argv.slice(2);
  const get = (flag: string) => {
    const i = argv.indexOf(flag);
    return i >= 0 ? argv[i + 1] : undefined;
  };
  const nodes = get('--node')?.split(',').filter((n) => n !== '').map((n) => path.resolve(n)) ?? [process.execPath];
  return { seconds: Number(get('--seconds') ?? 10), only: get('--only')?.split(','), nodes };
}

function makeContext(seconds: number, dir: string, data: BenchData, nodes: readonly string[]): BenchContext {
  const ctx: BenchContext = {
    seconds, dir, data, nodes,
    async startNodens(name, corefile, extraArgs = [], node = nodes[0]!, cpu) {
      const port = await freePort();
      const file = path.join(dir, `${name.replace(/\W+/g, '-')}.Corefile`);
      fs.writeFileSync(file, corefile.replaceAll('PORT', String(port)));
      // One process logs "serving"; a primary with workers logs "N workers serving" once all are up.
      const ready = extraArgs.includes('--workers') ? /workers serving/ : /nodens-\S+ on node \S+ serving/;
      return startProcess(name, node, [...NODE_FLAGS, CLI, '-conf', file, ...extraArgs], ready, port, { cpu });
    },
    async startDnsmasq(name, extraArgs = [], cpu) {
      const port = await freePort();
      return startProcess(name, 'dnsmasq', [
        '-C', '/dev/null', '--keep-in-foreground', '--no-resolv', '--no-hosts', '--listen-address=127.0.0.1', '--bind-interfaces',
        `--port=${port}`, '--pid-file=', '--user=root', '--log-facility=-', '--cache-size=10000', ...extraArgs,
      ], /started, version/, port, { cpu });
    },
    async startCeiling(cpu) {
      const port = await freePort();
      return startProcess('node ceiling (pre-built bytes)', nodes[0]!, [path.join(import.meta.dirname, 'reference-servers.mjs'), 'ceiling', String(port)], /listening (\d+)/, port, { cpu });
    },
    async measure(server, queryFile = data.hostsQueries, clients, outstanding) {
      await dnsperf({ port: server.port, queryFile, seconds: 1, clients, outstanding }); // warm up (JIT, caches)
      // Best of two: anything else running on the 2 cores only ever lowers a run's QPS.
      const run = async () => {
        const cpu0 = server.cpuMs();
        const r = await dnsperf({ port: server.port, queryFile, seconds, clients, outstanding });
        return { r, cpuUs: ((server.cpuMs() - cpu0) * 1000) / Math.max(1, r.completed) };
      };
      const a = await run();
      const b = await run();
      const best = a.r.qps >= b.r.qps ? a : b;
      return { name: server.name, full: best.r, cpuUs: best.cpuUs, rssMb: server.rssMb() };
    },
    async measureAtRate(server, rate, queryFile = data.hostsQueries) {
      await dnsperf({ port: server.port, queryFile, seconds: 2, rate }); // warm up: a cold JIT would own the p99
      return dnsperf({ port: server.port, queryFile, seconds, rate });
    },
  };
  return ctx;
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');
const f3 = (n: number) => (Number.isFinite(n) ? n.toFixed(3) : '-');

/** Prints rows as a table, with each QPS as a ratio to the first row. */
export function printTable(title: string, rows: Row[], base = rows[0]): void {
  const lines = [
    `\n## ${title}`,
    '| server | QPS (full load) | ratio | CPU µs/query | avg ms @fixed | p99 ms @fixed | RSS MB | lost % |',
    '|---|---:|---:|---:|---:|---:|---:|---:|',
  ];
  for (const r of rows) {
    const cpu = r.cpuUs !== undefined ? r.cpuUs.toFixed(1) : '-';
    lines.push(`| ${r.name} | ${f0(r.full.qps)} | ${base ? f2(r.full.qps / base.full.qps) : '-'} | ${cpu} | ${r.fixed ? f3(r.fixed.avgMs) : '-'} | ${r.fixed ? f3(r.fixed.p99Ms) : '-'} | ${f0(r.rssMb)} | ${f2(r.full.lostPct)} |`);
  }
  console.log(lines.join('\n'));
}

export function startHostsNodens(ctx: BenchContext, name = 'nodens (hosts)', node?: string): Promise<Running> {
  return ctx.startNodens(name, `.:PORT {\n  bind 127.0.0.1\n  hosts ${ctx.data.hostsFile} {\n    reload 0\n  }\n}\n`, [], node);
}

async function hostsSection(ctx: BenchContext): Promise<Row[]> {
  const { data } = ctx;
  const rate = 10_000;
  const rows: Row[] = [];
  const servers: [string, () => Promise<Running>][] = [
    ['nodens (hosts)', () => startHostsNodens(ctx)],
    ['node ceiling (pre-built bytes)', () => ctx.startCeiling()],
    ['dnsmasq', () => ctx.startDnsmasq('dnsmasq', [`--addn-hosts=${data.hostsFile}`])],
    ['dns2 3.x', async () => {
      const port = await freePort();
      return startProcess('dns2 3.x', process.execPath, [path.join(import.meta.dirname, 'reference-servers.mjs'), 'dns2', String(port), data.hostsFile], /listening (\d+)/, port);
    }],
  ];
  for (const [, start] of servers) {
    const server = await start();
    try {
      const row = await ctx.measure(server);
      row.fixed = await ctx.measureAtRate(server, rate);
      rows.push(row);
    } finally {
      await server.stop();
    }
  }
  printTable(`hosts: 1,000 names, dnsperf ${ctx.seconds}s full load; latency at a fixed ${rate} qps`, rows);
  return rows;
}

async function main(): Promise<void> {
  const { seconds, only, nodes } = args();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-bench-'));
  const data = writeData(dir);
  const ctx = makeContext(seconds, dir, data, nodes);
  const nodensOn = nodes.map((n) => execFileSync(n, ['--version'], { encoding: 'utf8' }).trim()).join(', ');
  console.log(`# nodens benchmark — ${new Date().toISOString()}, ${os.cpus().length} cores, nodens on node ${nodensOn} (bench on ${process.version}), dnsperf -c 4, full load: best of 2 runs of ${seconds}s`);
  const want = (name: string) => !only || only.includes(name);
  try {
    if (want('hosts')) await hostsSection(ctx);
    // Each section's figures are compared with the hosts server measured again just before them: this
    // machine's speed drifts over a run (a shared VM), so a ratio to a row taken minutes earlier misleads.
    const baseline = extraSections.some((s) => want(s.name) && !s.ownBaseline) ? await startHostsNodens(ctx, 'nodens (hosts), measured just before') : undefined;
    for (const section of extraSections) {
      if (want(section.name)) await section.run(ctx, baseline && !section.ownBaseline ? await ctx.measure(baseline) : undefined);
    }
  } finally {
    await stopAll();
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

process.on('SIGINT', () => void stopAll().then(() => process.exit(130)));
main().catch(async (err: unknown) => {
  console.error(err);
  await stopAll();
  process.exit(1);
});
