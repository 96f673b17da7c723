// forward's Prometheus metrics with CoreDNS's names (plugin/pkg/proxy and plugin/forward), plus a
// count of dropped replies (not ours, or not from our upstream) and of malformed ones, which CoreDNS
// does not have.
import type { Metrics } from '../../core/metrics.js';
import { rcodeName } from '../../core/message.js';

type Inc = { inc(): void };

export class ForwardMetrics {
  readonly rejects: Inc;
  readonly broken: Inc;
  readonly #duration;
  readonly #hcFailures;
  readonly #dropped;
  readonly #malformed;
  readonly #observers = new Map<string, { observe(v: number): void }>();

  constructor(metrics: Metrics) {
    this.#duration = metrics.histogram('coredns_proxy_request_duration_seconds', 'Histogram of the time each request took.', ['proxy_name', 'to', 'rcode']);
    this.#hcFailures = metrics.counter('coredns_proxy_healthcheck_failures_total', 'Counter of the number of failed healthchecks.', ['proxy_name', 'to']);
    this.#malformed = metrics.counter('coredns_forward_malformed_replies_total', 'Counter of replies that matched a query but were malformed (each a failed try).', ['to']);
    this.#dropped = metrics.counter('coredns_forward_dropped_replies_total', 'Counter of replies dropped because they did not match a query (ID, question, source).', ['to']);
    this.rejects = metrics.counter('coredns_forward_max_concurrent_rejects_total', 'Counter of the number of queries rejected because the concurrent queries were at maximum.');
    this.broken = metrics.counter('coredns_forward_healthcheck_broken_total', 'Counter of the number of complete failures of the healthchecks.');
  }

  observe(to: string, rcode: number, seconds: number): void {
    const key = `${to} ${rcode}`;
    let o = this.#observers.get(key);
    if (o === undefined) {
      o = this.#duration.labels({ proxy_name: 'forward', to, rcode: rcodeName(rcode) });
      this.#observers.set(key, o);
    }
    o.observe(seconds);
  }

  malformed(to: string): void {
    this.#malformed.labels({ to }).inc();
  }

  hooksFor(to: string): { onDrop: () => void; onProbeFail: () => void } {
    const dropped = this.#dropped.labels({ to });
    const failures = this.#hcFailures.labels({ proxy_name: 'forward', to });
    return { onDrop: () => dropped.inc(), onProbeFail: () => failures.inc() };
  }
}
