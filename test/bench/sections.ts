// The benchmark sections beyond hosts, one per issue that asks for numbers; each compares with the
// hosts row measured in the same run.
import { execFileSync } from 'node:child_process';
import os from 'node:os';
import { printTable, startHostsNodens, type BenchContext, type Row } from './run.js';

export interface Section {
  readonly name: string;
  /** The section compares its rows among themselves: no hosts baseline is measured before it. */
  readonly ownBaseline?: boolean;
  run(ctx: BenchContext, hosts: Row | undefined): Promise<void>;
}

const rowsWith = (hosts: Row | undefined, rows: Row[]) => (hosts ? [hosts, ...rows] : rows);

const cache: Section = {
  name: 'cache',
  async run(ctx, hosts) {
    const upstream = await ctx.startDnsmasq('dnsmasq upstream', ['--address=/fwd.test/10.9.9.9']);
    try {
      const cached = await ctx.startNodens('nodens cache hits (cache + forward)', `.:PORT {\n  bind 127.0.0.1\n  cache 3600\n  forward . 127.0.0.1:${upstream.port}\n}\n`);
      const rows: Row[] = [];
      try {
        rows.push(await ctx.measure(cached, ctx.data.forwardQueries));
      } finally {
        await cached.stop();
      }
      printTable('cache: hits (every name cached after the warm-up)', rowsWith(hosts, rows));

      // The miss path: what forwarding adds to a query, at a fixed rate both sides handle.
      const rate = 5000;
      const fwd = await ctx.startNodens('nodens forward (no cache)', `.:PORT {\n  bind 127.0.0.1\n  forward . 127.0.0.1:${upstream.port}\n}\n`);
      try {
        const direct = await ctx.measureAtRate(upstream, rate, ctx.data.forwardQueries);
        const via = await ctx.measureAtRate(fwd, rate, ctx.data.forwardQueries);
        console.log(`\n## forward: miss path at a fixed ${rate} qps (dnsmasq answers from its --address table)`);
        console.log('| path | avg ms | p50 ms | p99 ms | lost % |\n|---|---:|---:|---:|---:|');
        for (const [name, r] of [['dnsmasq direct', direct], ['nodens forward → dnsmasq', via]] as const) {
          console.log(`| ${name} | ${r.avgMs.toFixed(3)} | ${r.p50Ms.toFixed(3)} | ${r.p99Ms.toFixed(3)} | ${r.lostPct.toFixed(2)} |`);
        }
        console.log(`latency added per query by forward: avg ${(via.avgMs - direct.avgMs).toFixed(3)} ms, p99 ${(via.p99Ms - direct.p99Ms).toFixed(3)} ms`);
      } finally {
        await fwd.stop();
      }
    } finally {
      await upstream.stop();
    }
  },
};

const kubernetesCorefile = (ctx: BenchContext) => `cluster.local:PORT {\n  bind 127.0.0.1\n  kubernetes cluster.local {\n    manifests ${ctx.data.k8sManifests}\n  }\n}\n`;

const kubernetes: Section = {
  name: 'kubernetes',
  async run(ctx, hosts) {
    const server = await ctx.startNodens('nodens kubernetes (5,000 svc / 50,000 ep)', kubernetesCorefile(ctx));
    try {
      printTable('kubernetes: ClusterIP answers, 5,000 Services and 50,000 endpoints loaded', rowsWith(hosts, [await ctx.measure(server, ctx.data.k8sQueries)]));
    } finally {
      await server.stop();
    }
    try {
      const { runKubernetesScaleBench } = await import('./kubernetes-scale.js');
      await runKubernetesScaleBench();
    } catch (err) {
      console.log(`kubernetes scale bench not run: ${(err as Error).message}`);
    }
  },
};

const prometheus: Section = {
  name: 'prometheus',
  async run(ctx, hosts) {
    const rows: Row[] = [];
    const server = await ctx.startNodens('nodens hosts + prometheus',
      `.:PORT {\n  bind 127.0.0.1\n  prometheus 127.0.0.1:0\n  hosts ${ctx.data.hostsFile} {\n    reload 0\n  }\n}\n`);
    try {
      rows.push(await ctx.measure(server));
    } finally {
      await server.stop();
    }
    printTable('prometheus: hosts with metrics on (vs off in the first row)', rowsWith(hosts, rows));
  },
};

/**
 * One process against `--workers 2` with the cluster module's shared socket (the default) and with each
 * worker's own SO_REUSEPORT sockets (NODENS_SOCKET_SHARING=reusePort), unpinned, in two interleaved rounds.
 * Each is asked under several load shapes (dnsperf clients and queries outstanding) and its best QPS is
 * its capacity: on 2 cores dnsperf's own CPU per query depends on the shape (more outstanding queries cost
 * it more), and one fixed shape would favour whichever side it happens to suit.
 */
const workers: Section = {
  name: 'workers',
  ownBaseline: true,
  async run(ctx) {
    const corefile = `.:PORT {\n  bind 127.0.0.1\n  hosts ${ctx.data.hostsFile} {\n    reload 0\n  }\n}\n`;
    const variants: [string, string[], string | undefined][] = [
      ['nodens hosts, 1 process', [], undefined],
      ['nodens hosts, --workers 2 (reusePort)', ['--workers', '2'], 'reusePort'],
      ['nodens hosts, --workers 2 (cluster-shared socket, the default)', ['--workers', '2'], undefined],
    ];
    // At least 8 clients: the kernel hashes each client's address and port to one reusePort socket, and
    // fewer split unevenly over 2 workers; a cluster DNS serves many clients.
    const shapes: [clients: number, outstanding: number][] = [[8, 100], [16, 200], [32, 500]];
    const best = new Map<string, { row: Row; shape: string }>();
    const perWorker = new Map<string, string>();
    for (const round of [variants, [...variants].reverse()]) {
      for (const [name, args, sharing] of round) {
        if (sharing) process.env['NODENS_SOCKET_SHARING'] = sharing;
        const server = await ctx.startNodens(name, corefile, args).finally(() => delete process.env['NODENS_SOCKET_SHARING']);
        try {
          for (const [clients, outstanding] of shapes) {
            const cpu0 = server.cpuMsByPid();
            const row = await ctx.measure(server, ctx.data.hostsQueries, clients, outstanding);
            if (row.full.qps <= (best.get(name)?.row.full.qps ?? 0)) continue;
            best.set(name, { row, shape: `-c ${clients} -q ${outstanding}` });
            // Each process's share of the tree's CPU times the QPS: an estimate of each worker's QPS (the
            // workers keep no per-process count); the primary serves no DNS and should be near 0.
            const used = [...server.cpuMsByPid()].map(([pid, ms]) => [pid, ms - (cpu0.get(pid) ?? 0)] as const);
            const total = used.reduce((a, [, ms]) => a + ms, 0) || 1;
            perWorker.set(name, used.map(([pid, ms]) => `${pid === server.child.pid ? (args.length ? 'primary' : 'process') : `worker ${pid}`} ${((ms / total) * 100).toFixed(0)} % ≈ ${((ms / total) * row.full.qps).toFixed(0)} qps`).join(', '));
          }
        } finally {
          await server.stop();
        }
      }
    }
    const shapeList = shapes.map(([c, q]) => `-c ${c} -q ${q}`).join(', ');
    printTable(`workers: hosts, unpinned, the best QPS of each over dnsperf ${shapeList} in 2 interleaved rounds (dnsperf shares the 2 cores)`, variants.map(([name]) => best.get(name)!.row));
    console.log('the load shape of each best, and each process\'s share of the CPU over that measurement, times the QPS:');
    for (const [name] of variants) console.log(`- ${name}: ${best.get(name)!.shape}; ${perWorker.get(name)}`);
    // dnsperf needs about as much CPU per query as a server process: on 2 cores the workers and dnsperf
    // share the machine, and the QPS at which both cores are busy bounds what workers can show here.
    console.log(`the machine's bound: ${os.availableParallelism()} cores over the CPU per query of the server and of dnsperf together:`);
    for (const [name] of variants) {
      const { row } = best.get(name)!;
      const client = row.full.clientCpuUs;
      if (row.cpuUs === undefined || client === undefined) continue;
      const bound = (os.availableParallelism() * 1e6) / (row.cpuUs + client);
      console.log(`- ${name}: server ${row.cpuUs.toFixed(1)} + dnsperf ${client.toFixed(1)} µs/query: all cores busy at ${bound.toFixed(0)} qps; reached ${row.full.qps.toFixed(0)} (${((row.full.qps / bound) * 100).toFixed(0)} %)`);
    }
  },
};

const pinned: Section = {
  name: 'pinned',
  ownBaseline: true,
  async run(ctx) {
    const { runPinned } = await import('./pinned.js');
    await runPinned(ctx);
  },
};

const etcd: Section = {
  name: 'etcd',
  async run(ctx, hosts) {
    // Loaded here: etcd3 and the kube2sky sync cost memory the other sections need not carry.
    const { runEtcdBench } = await import('./etcd.js');
    await runEtcdBench(ctx, hosts);
  },
};

/**
 * The hosts and kubernetes servers on each Node binary given with --node, in one run, each ratio against the
 * first binary: which runtime the image ships. Two rounds, the second in reverse order, best of both per
 * binary: the shared machine's speed drifts, and a binary measured only last or first would carry the drift.
 */
const runtimes: Section = {
  name: 'runtimes',
  ownBaseline: true,
  async run(ctx) {
    const best = new Map<string, { hosts?: Row; k8s?: Row }>();
    const keep = (node: string, key: 'hosts' | 'k8s', row: Row) => {
      const entry = best.get(node) ?? {};
      if (!entry[key] || row.full.qps > entry[key].full.qps) entry[key] = row;
      best.set(node, entry);
    };
    for (const round of [ctx.nodes, [...ctx.nodes].reverse()]) {
      for (const node of round) {
        const version = execFileSync(node, ['--version'], { encoding: 'utf8' }).trim();
        const hosts = await startHostsNodens(ctx, `node ${version}`, node);
        try {
          keep(node, 'hosts', await ctx.measure(hosts));
        } finally {
          await hosts.stop();
        }
        const started = performance.now();
        const k8s = await ctx.startNodens(`node ${version}`, kubernetesCorefile(ctx), [], node);
        const startSeconds = (performance.now() - started) / 1000;
        try {
          const row = await ctx.measure(k8s, ctx.data.k8sQueries);
          keep(node, 'k8s', { ...row, name: `${row.name} (ready in ${startSeconds.toFixed(1)} s)` });
        } finally {
          await k8s.stop();
        }
      }
    }
    const rows = (key: 'hosts' | 'k8s') => ctx.nodes.map((n) => best.get(n)![key]!);
    printTable('runtimes: nodens hosts (1,000 names) on each Node, best of 2 rounds', rows('hosts'));
    printTable('runtimes: nodens kubernetes ClusterIP answers (5,000 svc / 50,000 ep) on each Node, best of 2 rounds', rows('k8s'));
  },
};

const forward: Section = {
  name: 'forward',
  async run() {
    const { runForwardBench } = await import('./forward.js');
    await runForwardBench();
  },
};

// In process, no dnsperf: a `rewrite name suffix` in front of hosts costs ≤ 1 µs per query (issue 9).
const rewrite: Section = {
  name: 'rewrite',
  async run() {
    const { measureRewriteCost, printRewriteCost } = await import('./rewrite.js');
    printRewriteCost(await measureRewriteCost());
  },
};

// In process: the largest UDP reply/query ratio with the defaults, and what ratelimit leaves of it (issue 14).
const amplification: Section = {
  name: 'amplification',
  ownBaseline: true,
  async run() {
    const { runAmplificationBench } = await import('./amplification.js');
    await runAmplificationBench();
  },
};

/** DoT and DoH against each server's own UDP, nodens beside unbound (test/bench/encrypted.ts). */
const encrypted: Section = {
  name: 'encrypted',
  ownBaseline: true,
  async run(ctx) {
    const { runEncryptedBench } = await import('./encrypted.js');
    await runEncryptedBench(ctx);
  },
};

export const extraSections: readonly Section[] = [pinned, cache, forward, kubernetes, prometheus, workers, etcd, runtimes, rewrite, amplification, encrypted];
