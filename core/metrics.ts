// Prometheus metrics through prom-client: one registry per process, each metric created once by name
// so that a reload (which runs setup again) reuses it instead of failing on a duplicate.
import cluster from 'node:cluster';
import client from 'prom-client';

export type Counter<L extends string = string> = client.Counter<L>;
export type Gauge<L extends string = string> = client.Gauge<L>;
export type Histogram<L extends string = string> = client.Histogram<L>;

export interface Metrics {
  readonly registry: client.Registry;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
  /** The exposition text of every metric; with worker processes, of the whole process tree. */
  scrape(): Promise<{ contentType: string; body: string }>;
}

let scrapeId = 0;
let workerAggregator: client.AggregatorRegistry<client.PrometheusContentType> | undefined;

/** In a worker: asks the primary, which gathers every worker's metrics (prom-client's AggregatorRegistry). */
function scrapeFromPrimary(timeoutMs = 5000): Promise<{ contentType: string; body: string }> {
  const id = ++scrapeId;
  return new Promise((resolve, reject) => {
    const onMessage = (msg: unknown) => {
      const m = msg as { type?: string; id?: number; body?: string; contentType?: string; error?: string };
      if (m?.type !== 'nodens:metrics' || m.id !== id) return;
      process.off('message', onMessage);
      clearTimeout(timer);
      if (m.error) reject(new Error(m.error));
      else resolve({ contentType: m.contentType ?? client.Registry.PROMETHEUS_CONTENT_TYPE, body: m.body ?? '' });
    };
    const timer = setTimeout(() => {
      process.off('message', onMessage);
      reject(new Error('the primary process did not answer the metrics request'));
    }, timeoutMs);
    process.on('message', onMessage);
    process.send!({ type: 'nodens:metrics', id });
  });
}

/** CoreDNS's duration buckets (plugin/pkg/prometheus: .00025s to 8s). */
export const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

export function createMetrics(registry = new client.Registry()): Metrics {
  // In a worker, the primary's AggregatorRegistry collects from this registry (not prom-client's global one).
  // (Constructing one installs prom-client's worker-side listener for the primary's requests.)
  if (cluster.isWorker) {
    workerAggregator ??= new client.AggregatorRegistry();
    client.AggregatorRegistry.setRegistries([registry]);
  }
  const made = new Map<string, unknown>();
  function once<T>(name: string, make: () => T): T {
    let m = made.get(name) as T | undefined;
    if (m === undefined) {
      m = make();
      made.set(name, m);
    }
    return m;
  }
  return {
    registry,
    counter: (name, help, labelNames = []) =>
      once(name, () => new client.Counter({ name, help, labelNames: [...labelNames], registers: [registry] })),
    // An *_info gauge is a constant 1 per label set: across workers it is the same series, not a sum.
    gauge: (name, help, labelNames = []) =>
      once(name, () => new client.Gauge({ name, help, labelNames: [...labelNames], registers: [registry], ...(name.endsWith('_info') ? { aggregator: 'first' as const } : {}) })),
    histogram: (name, help, labelNames = [], buckets = DURATION_BUCKETS) =>
      once(name, () => new client.Histogram({ name, help, labelNames: [...labelNames], buckets, registers: [registry] })),
    scrape: async () => (cluster.isWorker ? scrapeFromPrimary() : { contentType: registry.contentType, body: await registry.metrics() }),
  };
}
