// Runs dnsperf against a server on loopback and reads its report (and per-query latencies for percentiles).
import { execFile } from 'node:child_process';

export interface PerfResult {
  qps: number;
  avgMs: number;
  p50Ms: number;
  p99Ms: number;
  p999Ms: number;
  lostPct: number;
  lost: number;
  completed: number;
  /** dnsperf's own CPU time (user + system) per completed query, in µs: what the load costs the machine. */
  clientCpuUs?: number;
  /** Latency at each percentile 0..100 (101 points), at a fixed rate only: a CDF to draw. */
  cdfMs?: number[];
}

export interface PerfOptions {
  port: number;
  queryFile: string;
  seconds: number;
  /** A fixed rate (dnsperf -Q); undefined: as fast as the server answers. */
  rate?: number;
  /** Concurrent clients (dnsperf -c). */
  clients?: number;
  /** Queries outstanding at most (dnsperf -q; 500 unless given). */
  outstanding?: number;
  /** Transport (dnsperf -m): udp (default), tcp, dot, doh. */
  mode?: 'udp' | 'tcp' | 'dot' | 'doh';
  /** Long options (dnsperf -O): 'doh-uri=...', 'doh-method=POST', 'num-queries-per-conn=1'. */
  long?: readonly string[];
  /** Pin dnsperf to this CPU (taskset -c), so that it does not share the server's core. */
  cpu?: number;
}

export function dnsperf(opts: PerfOptions): Promise<PerfResult> {
  const args = ['-s', '127.0.0.1', '-p', String(opts.port), '-d', opts.queryFile, '-l', String(opts.seconds), '-c', String(opts.clients ?? 4), '-q', String(opts.outstanding ?? 500)];
  if (opts.mode) args.push('-m', opts.mode);
  for (const o of opts.long ?? []) args.push('-O', o);
  // Per-query lines (-v) only at a fixed rate: at full load printing them would slow dnsperf itself.
  if (opts.rate !== undefined) args.push('-Q', String(opts.rate), '-v');
  const command = opts.cpu !== undefined ? ['taskset', '-c', String(opts.cpu), 'dnsperf', ...args] : ['dnsperf', ...args];
  // Through bash for its `times` builtin: the CPU dnsperf used, printed after its report.
  return new Promise((resolve, reject) => {
    execFile('bash', ['-c', '"$@"; status=$?; times; exit $status', 'bash', ...command], { maxBuffer: 1 << 30, timeout: (opts.seconds + 30) * 1000 }, (err, stdout, stderr) => {
      if (err && !/Queries per second/.test(stdout)) return reject(new Error(`${err.message}\n${stderr}`));
      const num = (re: RegExp) => Number(re.exec(stdout)?.[1] ?? NaN);
      // times: the shell's user and system time, then its children's (dnsperf's) on the last line.
      const cpu = /(\d+)m([\d.]+)s (\d+)m([\d.]+)s\s*$/.exec(stdout);
      const clientCpuMs = cpu ? (Number(cpu[1]) * 60 + Number(cpu[2]) + Number(cpu[3]) * 60 + Number(cpu[4])) * 1000 : undefined;
      const latencies: number[] = [];
      for (const m of stdout.matchAll(/^> \S+ \S+ \S+ ([\d.]+)$/gm)) latencies.push(Number(m[1]) * 1000);
      latencies.sort((a, b) => a - b);
      const pct = (p: number) => (latencies.length ? latencies[Math.min(latencies.length - 1, Math.floor((p / 100) * latencies.length))]! : NaN);
      resolve({
        qps: num(/Queries per second:\s+([\d.]+)/),
        avgMs: num(/Average Latency \(s\):\s+([\d.]+)/) * 1000,
        p50Ms: pct(50),
        p99Ms: pct(99),
        p999Ms: pct(99.9),
        lostPct: num(/Queries lost:\s+\d+ \(([\d.]+)%\)/),
        lost: num(/Queries lost:\s+(\d+)/),
        completed: num(/Queries completed:\s+(\d+)/),
        ...(clientCpuMs !== undefined ? { clientCpuUs: (clientCpuMs * 1000) / num(/Queries completed:\s+(\d+)/) } : {}),
        ...(latencies.length ? { cdfMs: Array.from({ length: 101 }, (_, p) => pct(p)) } : {}),
      });
    });
  });
}
