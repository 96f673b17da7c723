// The health endpoint: GET /health answers 200 "OK" while the process serves, 503 once it is
// going down (lameduck). A once-a-second self-check times the endpoint, as CoreDNS's does.
import http from 'node:http';
import type { Logger } from '../../core/log.js';
import type { Counter, Histogram, Metrics } from '../../core/metrics.js';
import type { Handler } from '../../core/plugin.js';
import { listen, type Endpoint } from '../pkg/http-listener.js';

/** CoreDNS's plugin.SlimTimeBuckets: exponential from .25ms by 10, 5 buckets. */
export const SLIM_TIME_BUCKETS = [0.00025, 0.0025, 0.025, 0.25, 2.5];
const SELF_CHECK_MS = 1000;
const SELF_CHECK_TIMEOUT_MS = 3000;

export interface HealthOptions {
  readonly address: string;
  readonly lameduckMs: number;
}

export class Health implements Handler {
  #ok = true;
  #endpoint: Endpoint | undefined;
  #timer: NodeJS.Timeout | undefined;
  #inflight: http.ClientRequest | undefined;
  readonly #duration: Histogram;
  readonly #failures: Counter;

  constructor(readonly options: HealthOptions, private readonly logger: Logger, metrics: Metrics) {
    this.#duration = metrics.histogram('coredns_health_request_duration_seconds', 'Histogram of the time (in seconds) each request took.', [], SLIM_TIME_BUCKETS);
    this.#failures = metrics.counter('coredns_health_request_failures_total', 'The number of times the health check failed.');
  }

  /** Binds the endpoint (on startup, not at setup, so that validating a config binds nothing). */
  async start(): Promise<void> {
    this.#endpoint = await listen(this.options.address, '/health', () =>
      this.#ok ? { status: 200, body: 'OK' } : { status: 503, body: 'Shutting down' });
    this.#timer = setInterval(() => this.#selfCheck(), SELF_CHECK_MS).unref();
  }

  /** The endpoint's URL (tests bind port 0). */
  url(): string | undefined {
    return this.#endpoint?.url();
  }

  /** On shutdown: fail /health, then keep serving DNS for the lameduck duration. */
  async lameduck(): Promise<void> {
    this.#ok = false;
    if (this.options.lameduckMs <= 0) return;
    this.logger.info(`Going into lameduck mode for ${this.options.lameduckMs / 1000}s`);
    await new Promise((r) => setTimeout(r, this.options.lameduckMs));
  }

  async close(): Promise<void> {
    clearInterval(this.#timer);
    this.#inflight?.destroy();
    await this.#endpoint?.release();
    this.#endpoint = undefined;
  }

  #selfCheck(): void {
    const url = this.#endpoint?.url();
    if (!url || this.#inflight) return;
    const start = performance.now();
    const fail = (reason: string): void => {
      this.#duration.observe((performance.now() - start) / 1000);
      this.#failures.inc();
      this.logger.warn(`Local health request to "${url}/health" failed: ${reason}`);
    };
    const req = http.get(`${url}/health`, { timeout: SELF_CHECK_TIMEOUT_MS, agent: false }, (res) => {
      res.resume();
      res.on('end', () => {
        this.#inflight = undefined;
        const seconds = (performance.now() - start) / 1000;
        this.#duration.observe(seconds);
        if (seconds > 1) this.logger.warn(`Local health request to "${url}/health" took more than 1s: ${seconds.toFixed(3)}s`);
      });
    });
    this.#inflight = req;
    req.on('timeout', () => req.destroy(new Error('timeout')));
    req.on('error', (err) => {
      if (this.#inflight !== req) return; // destroyed by close()
      this.#inflight = undefined;
      fail(err.message);
    });
  }
}
