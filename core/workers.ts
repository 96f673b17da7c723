// All cores: a primary process that forks worker processes, each a whole nodens server. The cluster module
// shares one listening socket per address among the workers (UDP datagrams go to whichever worker reads
// first); with NODENS_SOCKET_SHARING=reusePort each worker binds its own sockets with SO_REUSEPORT and the
// kernel spreads clients over them (listeners.ts, SocketSharing, says which measured better where).
// The primary serves no DNS; it restarts workers that die, gathers their metrics for /metrics, and
// passes SIGTERM on so every worker drains its queries before the process tree exits.
import cluster, { type Worker } from 'node:cluster';
import os from 'node:os';
import client from 'prom-client';
import type { Logger } from './log.js';

export interface PrimaryOptions {
  /** Worker count; 0 means one per core. */
  readonly workers: number;
  readonly logger: Logger;
}

/** The worker count `--workers N` asks for (0: one per core). */
export function workerCount(requested: number): number {
  return requested > 0 ? requested : Math.max(1, os.availableParallelism());
}

/**
 * Runs the primary until it is told to stop; resolves with the exit code. Workers re-run the same CLI
 * (cluster forks process.argv), and report readiness with a 'nodens:ready' message.
 */
export function runPrimary(opts: PrimaryOptions): Promise<number> {
  const count = workerCount(opts.workers);
  const { logger } = opts;
  const aggregator = new client.AggregatorRegistry<client.PrometheusContentType>();
  let stopping = false;
  let started = 0;
  const restarts: number[] = [];

  return new Promise((resolve) => {
    const fork = (): Worker => {
      const worker = cluster.fork();
      worker.on('message', (msg: { type?: string; id?: number }) => {
        if (msg?.type === 'nodens:ready' && ++started === count) logger.info(`${count} workers serving`);
        if (msg?.type === 'nodens:metrics') void answerMetrics(worker, msg.id ?? 0, aggregator);
      });
      return worker;
    };

    cluster.on('exit', (worker, code, signal) => {
      if (stopping) {
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0);
        return;
      }
      // A worker that exits 1 before any worker served is a config or bind error: stop, don't loop.
      if (started === 0 && code !== 0) {
        stopping = true;
        for (const w of Object.values(cluster.workers ?? {})) w?.kill('SIGTERM');
        if (Object.keys(cluster.workers ?? {}).length === 0) resolve(code ?? 1);
        else cluster.on('exit', () => Object.keys(cluster.workers ?? {}).length === 0 && resolve(code ?? 1));
        return;
      }
      // Restart, but not in a tight loop: at most 10 restarts a minute.
      const now = Date.now();
      restarts.push(now);
      while (restarts.length > 0 && now - restarts[0]! > 60_000) restarts.shift();
      logger.error(`worker ${worker.process.pid} died (${signal ?? `exit ${code}`})${restarts.length > 10 ? '; too many restarts, not restarting' : '; restarting it'}`);
      if (restarts.length <= 10) fork();
    });

    const stop = (sig: NodeJS.Signals) => {
      if (stopping) return;
      stopping = true;
      logger.info(`${sig}: stopping ${count} workers`);
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill(sig);
      if (Object.keys(cluster.workers ?? {}).length === 0) resolve(0);
    };
    process.on('SIGTERM', () => stop('SIGTERM'));
    process.on('SIGINT', () => stop('SIGINT'));

    for (let i = 0; i < count; i++) fork();
  });
}

async function answerMetrics(worker: Worker, id: number, aggregator: client.AggregatorRegistry<client.PrometheusContentType>): Promise<void> {
  try {
    const body = await aggregator.clusterMetrics();
    worker.send({ type: 'nodens:metrics', id, body, contentType: aggregator.contentType });
  } catch (err) {
    worker.send({ type: 'nodens:metrics', id, error: (err as Error).message });
  }
}

/** In a worker: tells the primary this worker is serving. */
export function reportReady(): void {
  if (cluster.isWorker) process.send?.({ type: 'nodens:ready' });
}
