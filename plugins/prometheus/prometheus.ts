// The prometheus handler: counts each query on the way in and its reply once sent, then passes the
// query on; and the /metrics endpoint that exports the process's registry.
import type { Metrics } from '../../core/metrics.js';
import type { Reply } from '../../core/message.js';
import type { FastPath, Handler, Next, Request } from '../../core/plugin.js';
import { listen, type Endpoint } from '../pkg/http-listener.js';
import { dnsVectors, SeriesCache, type Series } from './dns-metrics.js';

export class Prometheus implements Handler {
  readonly #series: SeriesCache;
  #endpoint: Endpoint | undefined;

  constructor(readonly address: string, private readonly metrics: Metrics) {
    this.#series = SeriesCache.of(dnsVectors(metrics.registry));
  }

  /** On the fast path: the same counts as serve() and its Done, from the sent reply, with no per-query object. */
  readonly fast: FastPath = {
    sent: (req, rcode, size, plugin, durationMs) => this.#countRequest(req).response(durationMs / 1000, size, rcode, plugin),
  };

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const s = this.#countRequest(req);
    req.onDone((done) => s.response(done.durationMs / 1000, done.size, done.rcode, done.plugin ?? ''));
    return next();
  }

  /** Counts the query in its series, and returns the series for its reply. */
  #countRequest(req: Request): Series {
    const s = this.#series.get(req.server, req.zone, req.client.transport, req.client.family, req.qtype);
    s.request(req.size, req.do);
    return s;
  }

  async start(): Promise<void> {
    this.#endpoint = await listen(this.address, '/metrics', async () => ({ status: 200, ...(await this.metrics.scrape()) }));
  }

  url(): string | undefined {
    return this.#endpoint?.url();
  }

  async close(): Promise<void> {
    await this.#endpoint?.release();
    this.#endpoint = undefined;
  }
}
