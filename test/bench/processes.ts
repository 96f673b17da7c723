// Starting and stopping the servers a benchmark measures: each a child process, stopped by its PID.
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import dgram from 'node:dgram';

export interface Running {
  readonly name: string;
  readonly child: ChildProcess;
  readonly port: number;
  output(): string;
  /** Resident memory of the process (and its workers), in MB. */
  rssMb(): number;
  /** CPU time the process (and its workers) has used so far, in ms. */
  cpuMs(): number;
  /** CPU time per process of the tree (the primary and each worker), in ms, keyed by PID. */
  cpuMsByPid(): Map<number, number>;
  stop(): Promise<void>;
}

const started = new Set<Running>();

export interface StartOptions {
  readonly timeoutMs?: number;
  /** Pin the process (and the workers it forks) to this CPU with taskset. */
  readonly cpu?: number;
}

/** Starts a command and waits (bounded) until its output matches `ready`; the match's first group may be the port. */
export async function startProcess(name: string, cmd: string, args: string[], ready: RegExp, port: number, opts: StartOptions = {}): Promise<Running> {
  const timeoutMs = opts.timeoutMs ?? 60_000;
  // taskset execs the command, so the child's PID is the server's own.
  const child = opts.cpu !== undefined
    ? spawn('taskset', ['-c', String(opts.cpu), cmd, ...args], { stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const gotPort = await new Promise<number>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${name} not ready in ${timeoutMs} ms:\n${out}`)), timeoutMs);
    const onData = (d: Buffer) => {
      out += d;
      const m = ready.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve(m[1] ? Number(m[1]) : port);
      }
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`${name} exited ${code}:\n${out}`));
    });
  });
  child.removeAllListeners('exit');
  const running: Running = {
    name, child, port: gotPort,
    output: () => out,
    rssMb: () => treeRssMb(child.pid!),
    cpuMs: () => treeCpuMs(child.pid!),
    cpuMsByPid: () => new Map(treePids(child.pid!).map((p) => [p, pidCpuMs(p)])),
    stop: () => stopPid(child),
  };
  started.add(running);
  return running;
}

async function stopPid(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((r) => child.once('exit', () => r()));
  process.kill(child.pid!, 'SIGTERM');
  const timer = setTimeout(() => child.exitCode === null && process.kill(child.pid!, 'SIGKILL'), 10_000);
  await exited;
  clearTimeout(timer);
}

/** Stops everything still running (on exit or error). */
export async function stopAll(): Promise<void> {
  await Promise.all([...started].map((r) => r.stop().catch(() => {})));
  started.clear();
}

/** The process and its children (cluster workers). */
function treePids(pid: number): number[] {
  const pids = [pid];
  for (const entry of fs.readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const stat = fs.readFileSync(`/proc/${entry}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      if (ppid === pid) pids.push(Number(entry));
    } catch { /* gone */ }
  }
  return pids;
}

/** utime + stime of a process tree, in ms (clock ticks of 10 ms, Linux's USER_HZ). */
export function treeCpuMs(pid: number): number {
  let ms = 0;
  for (const p of treePids(pid)) ms += pidCpuMs(p);
  return ms;
}

/** utime + stime of one process, in ms (0 once it is gone). */
function pidCpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return 0;
  }
}

/** RSS of a process and its children (cluster workers), from /proc. */
export function treeRssMb(pid: number): number {
  let kb = 0;
  for (const p of treePids(pid)) {
    try {
      const m = /VmRSS:\s+(\d+) kB/.exec(fs.readFileSync(`/proc/${p}/status`, 'utf8'));
      kb += Number(m?.[1] ?? 0);
    } catch { /* gone */ }
  }
  return kb / 1024;
}

/** A port free for both UDP and TCP on 127.0.0.1. */
export async function freePort(): Promise<number> {
  for (;;) {
    const udp = dgram.createSocket('udp4');
    const port = await new Promise<number>((r) => udp.bind(0, '127.0.0.1', () => r(udp.address().port)));
    const ok = await new Promise<boolean>((r) => {
      const srv = net.createServer();
      srv.once('error', () => r(false));
      srv.listen(port, '127.0.0.1', () => srv.close(() => r(true)));
    });
    udp.close();
    if (ok) return port;
  }
}
