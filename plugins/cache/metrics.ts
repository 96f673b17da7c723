// The cache's Prometheus metrics, with CoreDNS's names and labels, bound once per server label so a
// hit costs a Map lookup and a counter increment.
import type { Counter, Gauge, Metrics } from '../../core/metrics.js';
import type { Kind } from './item.js';

type Inc = { inc(): void };
type Set = { set(v: number): void };

export interface BoundMetrics {
  readonly requests: Inc;
  readonly misses: Inc;
  readonly hits: Record<Kind, Inc>;
  readonly evictions: Record<Kind, Inc>;
  readonly entries: Record<Kind, Set>;
  readonly prefetch: Inc;
  readonly servedStale: Inc;
  readonly drops: Inc;
}

export class CacheMetrics {
  readonly #bound = new Map<string, BoundMetrics>();
  readonly #zones: string;
  readonly #entries: Gauge<'server' | 'type' | 'zones' | 'view'>;
  readonly #hits: Counter<'server' | 'type' | 'zones' | 'view'>;
  readonly #evictions: Counter<'server' | 'type' | 'zones' | 'view'>;
  readonly #plain: Record<'requests' | 'misses' | 'prefetch' | 'servedStale' | 'drops', Counter<'server' | 'zones' | 'view'>>;

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
  }

  for(server: string): BoundMetrics {
    let b = this.#bound.get(server);
    if (b === undefined) {
      const zones = this.#zones;
      const typed = (type: Kind) => ({ server, type, zones, view: '' });
      const plain = { server, zones, view: '' };
      b = {
        requests: this.#plain.requests.labels(plain),
        misses: this.#plain.misses.labels(plain),
        prefetch: this.#plain.prefetch.labels(plain),
        servedStale: this.#plain.servedStale.labels(plain),
        drops: this.#plain.drops.labels(plain),
        hits: { success: this.#hits.labels(typed('success')), denial: this.#hits.labels(typed('denial')) },
        evictions: { success: this.#evictions.labels(typed('success')), denial: this.#evictions.labels(typed('denial')) },
        entries: { success: this.#entries.labels(typed('success')), denial: this.#entries.labels(typed('denial')) },
      };
      this.#bound.set(server, b);
    }
    return b;
  }
}
