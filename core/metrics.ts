// Prometheus metrics through prom-client: one registry per process, each metric created once by name
// so that a reload (which runs setup again) reuses it instead of failing on a duplicate.
import client from 'prom-client';

export type Counter<L extends string = string> = client.Counter<L>;
export type Gauge<L extends string = string> = client.Gauge<L>;
export type Histogram<L extends string = string> = client.Histogram<L>;

export interface Metrics {
  readonly registry: client.Registry;
  counter<L extends string>(name: string, help: string, labelNames?: readonly L[]): Counter<L>;
  gauge<L extends string>(name: string, help: string, labelNames?: readonly L[]): Gauge<L>;
  histogram<L extends string>(name: string, help: string, labelNames?: readonly L[], buckets?: number[]): Histogram<L>;
}

/** CoreDNS's duration buckets (plugin/pkg/prometheus: .00025s to 8s). */
export const DURATION_BUCKETS = [0.00025, 0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048, 4.096, 8.192];

export function createMetrics(registry = new client.Registry()): Metrics {
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
    gauge: (name, help, labelNames = []) =>
      once(name, () => new client.Gauge({ name, help, labelNames: [...labelNames], registers: [registry] })),
    histogram: (name, help, labelNames = [], buckets = DURATION_BUCKETS) =>
      once(name, () => new client.Histogram({ name, help, labelNames: [...labelNames], buckets, registers: [registry] })),
  };
}
