// The DoT/DoH section of `npm run bench`: dnsperf -m dot and -m doh against nodens and a real unbound
// (Debian's, serving the same 1,000 names as local data) in the same run. Ratios: each encrypted
// transport against the same server's UDP; nodens against unbound; a new TLS connection per query
// (dnsperf num-queries-per-conn=1) against a reused one.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { makeCertificates } from '../fixtures/certificates.js';
import { dnsperf, type PerfOptions, type PerfResult } from './dnsperf.js';
import { freePort, startProcess, type Running } from './processes.js';
import type { BenchContext } from './run.js';

interface Mode {
  readonly name: string;
  readonly opts: (ports: Ports) => Partial<PerfOptions>;
  /** Measured with h2load (nghttp2-client) instead of dnsperf: GET or POST of one query, 4 connections × 32 streams. */
  readonly h2load?: 'GET' | 'POST';
}
interface Ports {
  readonly udp: number;
  readonly tls: number;
  readonly https: number;
}

const MODES: readonly Mode[] = [
  { name: 'UDP', opts: (p) => ({ port: p.udp }) },
  { name: 'DoT, reused connections (4)', opts: (p) => ({ port: p.tls, mode: 'dot' }) },
  { name: 'DoH GET, HTTP/2, reused connections (4)', opts: (p) => ({ port: p.https, mode: 'doh', long: [`doh-uri=https://127.0.0.1:${p.https}/dns-query`, 'doh-method=GET'] }) },
  { name: 'DoH POST, HTTP/2, reused connections (4)', opts: (p) => ({ port: p.https, mode: 'doh', long: [`doh-uri=https://127.0.0.1:${p.https}/dns-query`, 'doh-method=POST'] }) },
  { name: 'DoH GET, HTTP/2, h2load (4 connections × 32 streams)', opts: (p) => ({ port: p.https }), h2load: 'GET' },
  { name: 'DoH POST, HTTP/2, h2load (4 connections × 32 streams)', opts: (p) => ({ port: p.https }), h2load: 'POST' },
  { name: 'DoT, a new connection per query', opts: (p) => ({ port: p.tls, mode: 'dot', long: ['num-queries-per-conn=1'] }) },
];

/** h2load's requests per second over `seconds`, as a PerfResult. */
function h2load(ctx: BenchContext, port: number, method: 'GET' | 'POST', seconds = ctx.seconds): Promise<PerfResult> {
  // host-1.bench.test A, id 0, RD: one of the hosts names.
  const wire = Buffer.from('00000100000100000000000006686f73742d310562656e636804746573740000010001', 'hex');
  const body = path.join(ctx.dir, 'doh-query.bin');
  fs.writeFileSync(body, wire);
  const url = `https://127.0.0.1:${port}/dns-query${method === 'GET' ? `?dns=${wire.toString('base64url')}` : ''}`;
  const args = ['-c', '4', '-m', '32', '-D', String(seconds), ...(method === 'POST' ? ['-d', body, '-H', 'content-type: application/dns-message'] : []), url];
  return new Promise((resolve, reject) => {
    execFile('h2load', args, { timeout: (seconds + 30) * 1000, maxBuffer: 1 << 24 }, (err, stdout) => {
      const rps = /finished in [\d.]+\w*, ([\d.]+) req\/s/.exec(stdout);
      const done = /requests: \d+ total, \d+ started, \d+ done, (\d+) succeeded/.exec(stdout);
      if (!rps || !done) return reject(new Error(`h2load: ${err?.message ?? 'no figures'}\n${stdout}`));
      resolve({ qps: Number(rps[1]), avgMs: NaN, p50Ms: NaN, p99Ms: NaN, p999Ms: NaN, lostPct: NaN, lost: NaN, completed: Number(done[1]) });
    });
  });
}

/** Best of two runs (anything else on the 2 cores only lowers QPS), after a 1 s warm-up. */
async function measure(ctx: BenchContext, server: Running, opts: Partial<PerfOptions>, method?: 'GET' | 'POST'): Promise<{ r: PerfResult; cpuUs: number }> {
  const base = { queryFile: ctx.data.hostsQueries, port: server.port, ...opts };
  await (method ? h2load(ctx, base.port, method, 1) : dnsperf({ ...base, seconds: 1 }));
  const run = async () => {
    const cpu0 = server.cpuMs();
    const r = method ? await h2load(ctx, base.port, method) : await dnsperf({ ...base, seconds: ctx.seconds });
    return { r, cpuUs: ((server.cpuMs() - cpu0) * 1000) / Math.max(1, r.completed) };
  };
  const a = await run();
  const b = await run();
  return a.r.qps >= b.r.qps ? a : b;
}

async function startNodens(ctx: BenchContext, cert: string, key: string): Promise<{ server: Running; ports: Ports }> {
  const ports = { udp: 0, tls: await freePort(), https: await freePort() };
  const hosts = `  hosts ${ctx.data.hostsFile} {\n    reload 0\n  }\n`;
  const corefile = `.:PORT {\n  bind 127.0.0.1\n${hosts}}\n`
    + `tls://.:${ports.tls} https://.:${ports.https} {\n  bind 127.0.0.1\n  tls ${cert} ${key}\n${hosts}}\n`;
  const server = await ctx.startNodens('nodens (hosts)', corefile);
  return { server, ports: { ...ports, udp: server.port } };
}

async function startUnbound(ctx: BenchContext, cert: string, key: string): Promise<{ server: Running; ports: Ports }> {
  const ports = { udp: await freePort(), tls: await freePort(), https: await freePort() };
  const data = fs.readFileSync(ctx.data.hostsFile, 'utf8').trim().split('\n').map((line) => {
    const [ip, name] = line.split(/\s+/);
    return `  local-data: "${name}. 3600 IN A ${ip}"`;
  });
  const conf = path.join(ctx.dir, 'unbound-bench.conf');
  fs.writeFileSync(conf, [
    'server:',
    ...[ports.udp, ports.tls, ports.https].map((p) => `  interface: 127.0.0.1@${p}`),
    `  tls-port: ${ports.tls}`, `  https-port: ${ports.https}`, `  tls-service-key: "${key}"`, `  tls-service-pem: "${cert}"`,
    '  do-daemonize: no', '  username: ""', '  chroot: ""', `  directory: "${ctx.dir}"`, '  pidfile: ""', '  use-syslog: no', '  logfile: ""',
    '  verbosity: 1', '  do-ip6: no', '  num-threads: 1', '  access-control: 127.0.0.0/8 allow', '  module-config: "iterator"',
    '  incoming-num-tcp: 256', '  local-zone: "." static', ...data,
    'remote-control:', '  control-enable: no', '',
  ].join('\n'));
  const server = await startProcess('unbound 1.17 (1 thread)', 'unbound', ['-d', '-c', conf], /start of service/, ports.udp);
  return { server, ports };
}

const f0 = (n: number) => (Number.isFinite(n) ? n.toFixed(0) : '-');
const f2 = (n: number) => (Number.isFinite(n) ? n.toFixed(2) : '-');

export async function runEncryptedBench(ctx: BenchContext): Promise<void> {
  const certs = makeCertificates('bench.nodens.test');
  const results = new Map<string, Map<string, { r: PerfResult; cpuUs: number }>>();
  try {
    for (const start of [startNodens, startUnbound]) {
      const { server, ports } = await start(ctx, certs.cert, certs.key);
      const rows = new Map<string, { r: PerfResult; cpuUs: number }>();
      results.set(server.name, rows);
      try {
        for (const mode of MODES) {
          // dnsperf 2.10's DoH client is marked experimental and exits (fatal) when two answers arrive in one read.
          const got = await measure(ctx, server, mode.opts(ports), mode.h2load).catch((err: Error) => {
            console.log(`${server.name}, ${mode.name}: dnsperf failed: ${err.message.split('\n').find((l) => /rror/.test(l)) ?? err.message.split('\n')[0]}`);
            return { r: { qps: NaN, avgMs: NaN, p50Ms: NaN, p99Ms: NaN, p999Ms: NaN, lostPct: NaN, lost: NaN, completed: 0 }, cpuUs: NaN };
          });
          rows.set(mode.name, got);
        }
      } finally {
        await server.stop();
      }
    }
  } finally {
    certs.remove();
  }
  const [nodens, unbound] = [...results.values()];
  const names = [...results.keys()];
  console.log(`\n## encrypted DNS: 1,000 hosts names, dnsperf -c 4 ${ctx.seconds}s full load, best of 2 (${names.join(' vs ')})`);
  console.log(`| transport | ${names.map((n) => `${n} QPS | ×own UDP | CPU µs/query`).join(' | ')} | nodens / unbound |`);
  console.log(`|---|${names.map(() => '---:|---:|---:').join('|')}|---:|`);
  for (const mode of MODES) {
    const cells = [...results.values()].map((rows) => {
      const m = rows.get(mode.name)!;
      return `${f0(m.r.qps)} | ${f2(m.r.qps / rows.get('UDP')!.r.qps)} | ${Number.isFinite(m.cpuUs) ? m.cpuUs.toFixed(1) : '-'}`;
    });
    console.log(`| ${mode.name} | ${cells.join(' | ')} | ${f2(nodens!.get(mode.name)!.r.qps / unbound!.get(mode.name)!.r.qps)} |`);
  }
  for (const [name, rows] of results) {
    const reused = rows.get('DoT, reused connections (4)')!;
    const fresh = rows.get('DoT, a new connection per query')!;
    console.log(`${name}: a new TLS connection per query costs ${(fresh.cpuUs - reused.cpuUs).toFixed(0)} µs of server CPU more than a reused one (${fresh.cpuUs.toFixed(0)} vs ${reused.cpuUs.toFixed(1)} µs/query; QPS ${f0(fresh.r.qps)} vs ${f0(reused.r.qps)})`);
  }
}
