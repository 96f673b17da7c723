// Label vectors that cost a field increment on the hot path. prom-client hashes the label object on
// every inc()/observe() (~0.4 µs each, five per query); these keep one mutable cell per label tuple,
// handed out once and cached by the caller, and are read by the registry only at scrape time.
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

/** What prom-client's Registry needs of a metric: a name and get() (it also calls reset()). */
abstract class Vector<Cell> {
  readonly aggregator = 'sum';
  readonly #cells = new Map<string, { labels: Labels; cell: Cell }>();
  abstract readonly type: 'counter' | 'histogram';

  constructor(readonly name: string, readonly help: string, readonly labelNames: readonly string[]) {}

  protected abstract make(): Cell;
  protected abstract samples(labels: Labels, cell: Cell): Sample[];

  /** The cell of one label tuple (values in labelNames order). Cache it: this lookup is the slow part. */
  cell(values: readonly string[]): Cell {
    const key = values.join('\u0000');
    let entry = this.#cells.get(key);
    if (!entry) {
      const labels: Labels = {};
      this.labelNames.forEach((n, i) => (labels[n] = values[i] ?? ''));
      entry = { labels, cell: this.make() };
      this.#cells.set(key, entry);
    }
    return entry.cell;
  }

  get(): MetricJson {
    const values: Sample[] = [];
    for (const { labels, cell } of this.#cells.values()) values.push(...this.samples(labels, cell));
    return { name: this.name, help: this.help, type: this.type, values, aggregator: this.aggregator };
  }

  /** Forgets every series. Cells handed out before keep counting but are no longer exported. */
  reset(): void {
    this.#cells.clear();
  }
}

export interface CounterCell {
  value: number;
}

export class CounterVec extends Vector<CounterCell> {
  readonly type = 'counter';
  protected make(): CounterCell {
    return { value: 0 };
  }
  protected samples(labels: Labels, cell: CounterCell): Sample[] {
    return [{ labels, value: cell.value }];
  }
}

export class HistogramCell {
  /** Non-cumulative counts per bucket; the last one is +Inf. */
  readonly counts: Float64Array;
  sum = 0;
  count = 0;
  constructor(readonly bounds: readonly number[]) {
    this.counts = new Float64Array(bounds.length + 1);
  }
  observe(v: number): void {
    const b = this.bounds;
    let i = 0;
    while (i < b.length && v > b[i]!) i++;
    this.counts[i]!++;
    this.sum += v;
    this.count++;
  }
}

export class HistogramVec extends Vector<HistogramCell> {
  readonly type = 'histogram';
  constructor(name: string, help: string, labelNames: readonly string[], readonly buckets: readonly number[]) {
    super(name, help, labelNames);
  }
  protected make(): HistogramCell {
    return new HistogramCell(this.buckets);
  }
  protected samples(labels: Labels, cell: HistogramCell): Sample[] {
    const out: Sample[] = [];
    let acc = 0;
    this.buckets.forEach((le, i) => {
      acc += cell.counts[i]!;
      out.push({ labels: { ...labels, le: String(le) }, value: acc, metricName: `${this.name}_bucket` });
    });
    out.push({ labels: { ...labels, le: '+Inf' }, value: cell.count, metricName: `${this.name}_bucket` });
    out.push({ labels, value: cell.sum, metricName: `${this.name}_sum` });
    out.push({ labels, value: cell.count, metricName: `${this.name}_count` });
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
