// Label vectors that cost an array increment on the hot path. prom-client hashes the label object on
// every inc()/observe() (~0.4 µs each, five per query); these export numbers their owner keeps in its
// own Float64Array (attached once), and are read by the registry only at scrape time.
import type client from 'prom-client';

type Labels = Record<string, string>;
interface Sample {
  readonly labels: Labels;
  readonly value: number;
  readonly metricName?: string;
}
interface MetricJson {
  name: string;
  help: string;
  type: 'counter' | 'histogram';
  values: Sample[];
  aggregator: 'sum';
}

/**
 * Where a series keeps its numbers: slots of one Float64Array that its owner updates directly. A counter
 * is one slot; a histogram is its non-cumulative bucket counts (the last one +Inf), then its sum, then
 * its count. Several owners may count for one label tuple: the vector adds them up at scrape time.
 */
interface Source {
  readonly array: Float64Array;
  readonly at: number;
}

/** What prom-client's Registry needs of a metric: a name and get() (it also calls reset()). */
abstract class Vector {
  readonly aggregator = 'sum';
  readonly #tuples = new Map<string, { labels: Labels; sources: Source[] }>();
  abstract readonly type: 'counter' | 'histogram';

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  /** How many slots one source of this vector takes. */
  abstract readonly width: number;
  protected abstract samples(labels: Labels, sources: readonly Source[]): Sample[];

  /**
   * Exports `array` from `at` (this.width slots) under one label tuple (values in labelNames order).
   * Attach once per owner: the map lookup here is the slow part.
   */
  attach(values: readonly string[], array: Float64Array, at: number): void {
    if (at < 0 || at + this.width > array.length) throw new RangeError(`${this.name}: slots ${at}..${at + this.width} are outside the array`);
    const key = values.join('\u0000');
    let tuple = this.#tuples.get(key);
    if (!tuple) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      tuple = { labels, sources: [] };
      this.#tuples.set(key, tuple);
    }
    tuple.sources.push({ array, at });
  }

  get(): MetricJson {
    const values: Sample[] = [];
    for (const { labels, sources } of this.#tuples.values()) values.push(...this.samples(labels, sources));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Forgets every series. Arrays attached before keep counting but are no longer exported. */
  reset(): void {
    this.#tuples.clear();
  }
}

export class CounterVec extends Vector {
  readonly type = 'counter';
  readonly width = 1;

  protected samples(labels: Labels, sources: readonly Source[]): Sample[] {
    let value = 0;
    for (const s of sources) value += s.array[s.at]!;
    return [{ labels, value }];
  }
}

/** Adds `v` to the histogram kept in `array` from `at` (see Source), with these bucket bounds. */
export function observe(array: Float64Array, at: number, bounds: readonly number[], v: number): void {
  let i = 0;
  while (i < bounds.length && v > bounds[i]!) i++;
  array[at + i]!++;
  array[at + bounds.length + 1]! += v;
  array[at + bounds.length + 2]!++;
}

export class HistogramVec extends Vector {
  readonly type = 'histogram';
  readonly width: number;
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
    this.width = buckets.length + 3;
  }

  protected samples(labels: Labels, sources: readonly Source[]): Sample[] {
    const n = this.buckets.length;
    const at = (i: number): number => sources.reduce((acc, s) => acc + s.array[s.at + i]!, 0);
    const out: Sample[] = [];
    let acc = 0;
    this.buckets.forEach((le, i) => {
      acc += at(i);
      out.push({ labels: { ...labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` });
    });
    const count = at(n + 2);
    out.push({ labels: { ...labels, le: '+Inf' }, value: count, metricName: `${this.name}_bucket` });
    out.push({ labels, value: at(n + 1), metricName: `${this.name}_sum` });
    out.push({ labels, value: count, metricName: `${this.name}_count` });
    return out;
  }
}

/** The vector registered under `name`, made and registered once (a reload's setup reuses it). */
export function registered<V extends CounterVec | HistogramVec>(registry: client.Registry, name: string, make: () => V): V {
  const existing = registry.getSingleMetric(name) as unknown;
  if (existing instanceof CounterVec || existing instanceof HistogramVec) return existing as V;
  if (existing) throw new Error(`metric ${name} is already registered as another kind`);
  const v = make();
  registry.registerMetric(v as unknown as client.Metric);
  return v;
}
