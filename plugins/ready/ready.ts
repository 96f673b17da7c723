// The readiness endpoint: GET /ready answers 200 "OK" once every plugin that reports readiness is
// ready, else 503 with the sorted, comma-separated names of those that are not (as CoreDNS does).
import type { Logger } from '../../core/log.js';
import type { Handler, PluginInstance } from '../../core/plugin.js';
import { listen, type Endpoint, type RouteResult } from '../pkg/http-listener.js';

export type Monitor = 'until-ready' | 'continuously';

export class Ready implements Handler {
  #endpoint: Endpoint | undefined;
  #shuttingDown = false;
  /** Handlers that reported ready once; with `until-ready` they are not asked again. */
  readonly #readyOnce = new WeakSet<Handler>();

  constructor(
    readonly address: string,
    readonly monitor: Monitor,
    private readonly instances: () => readonly PluginInstance[],
    private readonly logger: Logger,
  ) {}

  async start(): Promise<void> {
    this.#endpoint = await listen(this.address, '/ready', () => this.check());
  }

  url(): string | undefined {
    return this.#endpoint?.url();
  }

  /** From the first shutdown hook on, /ready fails so that no new traffic is sent here. */
  shutdown(): void {
    this.#shuttingDown = true;
  }

  /** The names of the plugins not ready yet, sorted and unique. */
  notReady(): string[] {
    const names = new Set<string>();
    for (const { name, handler } of this.instances()) {
      if (!handler.ready || this.#readyOnce.has(handler)) continue;
      if (handler.ready()) {
        if (this.monitor === 'until-ready') this.#readyOnce.add(handler);
      } else {
        names.add(name);
      }
    }
    return [...names].sort();
  }

  check(): RouteResult {
    if (this.#shuttingDown) return { status: 503, body: 'Shutting down' };
    const names = this.notReady();
    if (names.length === 0) return { status: 200, body: 'OK' };
    const list = names.join(',');
    this.logger.info(`Plugins not ready: "${list}"`);
    return { status: 503, body: list };
  }

  async close(): Promise<void> {
    await this.#endpoint?.release();
    this.#endpoint = undefined;
  }
}
