// The cache's Prometheus metrics, with CoreDNS's names and labels. A hit only bumps plain numbers;
// they are added to the prom-client counters when the registry collects (a labelled prom-client
// inc hashes its labels every time: 0.6 µs, a fifth of a hit).
import type { Counter, Gauge, Metrics } from '../../core/metrics.js';
import type { Kind } from './item.js';

type Labelled = { labels(labels: Record<string, string>): { inc(v?: number): void } };
type PlainCounts = { requests: number; misses: number; prefetch: number; servedStale: number; drops: number };
const PLAIN = ['requests', 'misses', 'prefetch', 'servedStale', 'drops'] as const;

/** Counts for one server label, flushed on collect. */
export interface BoundMetrics extends PlainCounts {
  readonly hits: Record<Kind, number>;
  readonly evictions: Record<Kind, number>;
  readonly entries: Record<Kind, { set(v: number): void }>;
}

interface Binding {
  readonly counts: BoundMetrics;
  readonly plain: Record<keyof PlainCounts, { inc(v?: number): void }>;
  readonly hits: Record<Kind, { inc(v?: number): void }>;
  readonly evictions: Record<Kind, { inc(v?: number): void }>;
}

// Several caches (server blocks, reloads) share one metric object: each registers its flush here.
const flushers = new WeakMap<object, Set<() => void>>();

function onCollect(metric: object, flush: () => void): () => void {
  let set = flushers.get(metric);
  if (set === undefined) {
    const all = new Set<() => void>();
    set = all;
    flushers.set(metric, all);
    const m = metric as { collect?: (this: unknown) => unknown };
    const previous = m.collect;
    m.collect = function (this: unknown) {
      for (const f of all) f();
      return previous?.call(this);
    };
  }
  set.add(flush);
  const mine = set;
  return () => void mine.delete(flush);
}

export class CacheMetrics {
  readonly #bound = new Map<string, Binding>();
  #lastServer = '';
  #lastCounts: BoundMetrics | undefined;
  readonly #zones: string;
  readonly #entries: Gauge<'server' | 'type' | 'zones' | 'view'>;
  readonly #hits: Counter<'server' | 'type' | 'zones' | 'view'>;
  readonly #evictions: Counter<'server' | 'type' | 'zones' | 'view'>;
  readonly #plain: Record<keyof PlainCounts, Counter<'server' | 'zones' | 'view'>>;
  readonly #unhook: (() => void)[];

  /** `zones`: the cache's zones, fully qualified and comma-joined, as CoreDNS labels them. */
  constructor(metrics: Metrics, zones: string) {
    this.#zones = zones;
    const typed = ['server', 'type', 'zones', 'view'] as const;
    const plain = ['server', 'zones', 'view'] as const;
    this.#entries = metrics.gauge('coredns_cache_entries', 'The number of elements in the cache.', typed);
    this.#hits = metrics.counter('coredns_cache_hits_total', 'The count of cache hits.', typed);
    this.#evictions = metrics.counter('coredns_cache_evictions_total', 'The count of cache evictions.', typed);
    this.#plain = {
      requests: metrics.counter('coredns_cache_requests_total', 'The count of cache requests.', plain),
      misses: metrics.counter('coredns_cache_misses_total', 'The count of cache misses. Deprecated, derive misses from cache hits/requests counters.', plain),
      prefetch: metrics.counter('coredns_cache_prefetch_total', 'The number of times the cache has prefetched a cached item.', plain),
      servedStale: metrics.counter('coredns_cache_served_stale_total', 'The number of requests served from stale cache entries.', plain),
      drops: metrics.counter('coredns_cache_drops_total', 'The number responses that are not cached, because the reply is malformed.', plain),
    };
    const flush = (): void => this.flush();
    this.#unhook = [this.#hits, this.#evictions, ...Object.values(this.#plain)].map((m) => onCollect(m, flush));
  }

  for(server: string): BoundMetrics {
    // One listener serves nearly every query: the last one's counts skip the map.
    if (server === this.#lastServer && this.#lastCounts !== undefined) return this.#lastCounts;
    let b = this.#bound.get(server);
    if (b === undefined) {
      b = this.#bind(server);
      this.#bound.set(server, b);
    }
    this.#lastServer = server;
    this.#lastCounts = b.counts;
    return b.counts;
  }

  /** Adds the counts gathered since the last flush to the prom-client counters. */
  flush(): void {
    for (const b of this.#bound.values()) {
      const c = b.counts;
      for (const k of PLAIN) {
        if (c[k] > 0) b.plain[k].inc(c[k]);
        c[k] = 0;
      }
      for (const kind of ['success', 'denial'] as const) {
        if (c.hits[kind] > 0) b.hits[kind].inc(c.hits[kind]);
        if (c.evictions[kind] > 0) b.evictions[kind].inc(c.evictions[kind]);
        c.hits[kind] = 0;
        c.evictions[kind] = 0;
      }
    }
  }

  /** Flushes one last time and stops listening to collects (the cache is being replaced). */
  close(): void {
    this.flush();
    for (const u of this.#unhook) u();
  }

  #bind(server: string): Binding {
    const zones = this.#zones;
    const typed = (type: Kind) => ({ server, type, zones, view: '' });
    const plainLabels = { server, zones, view: '' };
    const byKind = (m: Labelled) => ({ success: m.labels(typed('success')), denial: m.labels(typed('denial')) });
    const plain = Object.fromEntries(PLAIN.map((k) => [k, (this.#plain[k] as Labelled).labels(plainLabels)])) as Binding['plain'];
    return {
      counts: {
        requests: 0, misses: 0, prefetch: 0, servedStale: 0, drops: 0,
        hits: { success: 0, denial: 0 },
        evictions: { success: 0, denial: 0 },
        entries: { success: this.#entries.labels(typed('success')), denial: this.#entries.labels(typed('denial')) },
      },
      plain,
      hits: byKind(this.#hits as Labelled),
      evictions: byKind(this.#evictions as Labelled),
    };
  }
}
