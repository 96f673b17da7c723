import { expect } from 'chai';
import client from 'prom-client';
import { CounterVec, HistogramVec, observe, registered } from './vector.js';

describe('label vectors', () => {
  it('export counters and cumulative histograms in the Prometheus text format', async () => {
    const reg = new client.Registry();
    const c = registered(reg, 'x_total', () => new CounterVec('x_total', 'X.', ['a', 'b']));
    const h = registered(reg, 'y_seconds', () => new HistogramVec('y_seconds', 'Y.', ['a'], [0.1, 1]));
    // Two owners of one label tuple (two series, say) are added up.
    const first = new Float64Array(1);
    const second = new Float64Array(3);
    c.attach(['1', 'p'], first, 0);
    c.attach(['1', 'p'], second, 2);
    c.attach(['2', 'q'], second, 0);
    first[0]! += 2;
    second[2]!++;
    second[0]!++;
    const hist = new Float64Array(h.width);
    h.attach(['z'], hist, 0);
    for (const v of [0.05, 0.1, 0.5, 3]) observe(hist, 0, h.buckets, v);
    const text = await reg.metrics();
    expect(text).to.contain('# TYPE x_total counter\nx_total{a="1",b="p"} 3\nx_total{a="2",b="q"} 1');
    expect(text).to.contain([
      '# TYPE y_seconds histogram',
      'y_seconds_bucket{a="z",le="0.1"} 2',
      'y_seconds_bucket{a="z",le="1"} 3',
      'y_seconds_bucket{a="z",le="+Inf"} 4',
      'y_seconds_sum{a="z"} 3.65',
      'y_seconds_count{a="z"} 4',
    ].join('\n'));
  });

  it('refuse slots outside the array', () => {
    const h = new HistogramVec('y', 'Y.', [], [0.1, 1]);
    expect(() => h.attach([], new Float64Array(5), 1)).to.throw(RangeError, /slots 1\.\.6/);
    expect(() => h.attach([], new Float64Array(5), 0)).not.to.throw();
  });

  it('are created once per registry (a reload reuses them) and refuse a clash with another kind', () => {
    const reg = new client.Registry();
    const a = registered(reg, 'x_total', () => new CounterVec('x_total', 'X.', []));
    expect(registered(reg, 'x_total', () => new CounterVec('x_total', 'X.', []))).to.equal(a);
    new client.Gauge({ name: 'g', help: 'G.', registers: [reg] });
    expect(() => registered(reg, 'g', () => new CounterVec('g', 'G.', []))).to.throw(/already registered/);
  });

  it('sum across workers with prom-client AggregatorRegistry', async () => {
    const worker = async (n: number) => {
      const reg = new client.Registry();
      const c = registered(reg, 'x_total', () => new CounterVec('x_total', 'X.', ['a']));
      c.attach(['1'], Float64Array.of(n), 0);
      const h = registered(reg, 'y', () => new HistogramVec('y', 'Y.', [], [1]));
      const hist = new Float64Array(h.width);
      h.attach([], hist, 0);
      observe(hist, 0, h.buckets, n);
      return reg.getMetricsAsJSON();
    };
    const merged = client.AggregatorRegistry.aggregate([await worker(2), await worker(5)]);
    const text = await merged.metrics();
    expect(text).to.contain('x_total{a="1"} 7');
    expect(text).to.contain('y_bucket{le="1"} 0');
    expect(text).to.contain('y_count 2');
    expect(text).to.contain('y_sum 7');
  });
});
