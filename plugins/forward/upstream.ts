// One upstream: its transports, and its health. A failed exchange starts probing (`. IN NS` every
// health_check interval) until a probe gets any answer; each failed probe adds a fail, and more than
// max_fails fails marks the upstream down (CoreDNS's proxy.Down and health check loop).
import type { Transport } from '../../core/plugin.js';
import { encodeMessage } from '../../core/wire.js';
import { makeQuery } from '../../core/message.js';
import type { ExchangeOptions } from './exchange.js';
import { TcpPool } from './tcp.js';
import { tlsConnector, type TlsClientOptions } from './tls.js';
import { UDP_DEFAULTS, UdpPool, type UdpPoolOptions } from './udp-pool.js';
import type { Endpoint } from './to.js';

export interface HealthOptions {
  readonly intervalMs: number;
  readonly recursionDesired: boolean;
  readonly domain: string;
  /** Probe over TCP (force_tcp). */
  readonly tcp: boolean;
}

const PROBE_TIMEOUT_MS = 1000;

export class Upstream {
  readonly to: Endpoint;
  fails = 0;
  readonly #tcp: TcpPool;
  readonly #udpPool: UdpPool;
  readonly #health: HealthOptions;
  readonly #onDrop: () => void;
  readonly #onProbeFail: () => void;
  readonly #probe: Uint8Array;
  #probing = false;
  #timer: NodeJS.Timeout | undefined;
  #closed = false;
  readonly #inflight = new Set<AbortController>();
  /** Cancels of the UDP exchanges under way. */
  readonly #udp = new Set<(err: Error) => void>();

  constructor(
    to: Endpoint,
    expireMs: number,
    health: HealthOptions,
    hooks: { onDrop: () => void; onProbeFail: () => void },
    udp: UdpPoolOptions = UDP_DEFAULTS,
    tls: TlsClientOptions = {},
  ) {
    this.to = to;
    this.#health = health;
    this.#onDrop = hooks.onDrop;
    this.#onProbeFail = hooks.onProbeFail;
    this.#tcp = new TcpPool(to, expireMs, hooks.onDrop, to.tls ? tlsConnector(tls) : undefined);
    this.#udpPool = new UdpPool(to, hooks.onDrop, udp);
    this.#probe = encodeMessage(makeQuery(health.domain, 'NS', { id: 0, rd: health.recursionDesired }));
  }

  /** Down: more than `maxFails` failed probes in a row (never, with max_fails 0). */
  down(maxFails: number): boolean {
    return maxFails !== 0 && this.fails > maxFails;
  }

  exchange(query: Uint8Array, transport: Transport, opts: ExchangeOptions): Promise<Buffer> {
    const o = { ...opts, onDrop: this.#onDrop, track: this.#udp };
    // A tls:// upstream is asked over TLS whatever the client used (and so are its health probes).
    return transport === 'tcp' || this.to.tls ? this.#tcp.exchange(query, o) : this.#udpPool.exchange(query, o);
  }

  /** Starts probing unless a probe loop already runs. */
  healthcheck(): void {
    if (this.#probing || this.#closed) return;
    this.#probing = true;
    void this.#tick();
  }

  close(): void {
    this.#closed = true;
    if (this.#timer) clearTimeout(this.#timer);
    for (const c of this.#inflight) c.abort();
    for (const cancel of [...this.#udp]) cancel(new Error(`forward: ${this.to.name} closed`));
    this.#tcp.close();
    this.#udpPool.close();
  }

  async #tick(): Promise<void> {
    if (this.#closed) return;
    const controller = new AbortController();
    this.#inflight.add(controller);
    let ok = false;
    try {
      await this.exchange(this.#probe, this.#health.tcp ? 'tcp' : 'udp', { timeoutMs: PROBE_TIMEOUT_MS, signal: controller.signal });
      ok = true; // any answer, whatever its rcode, means the upstream is there
    } catch {
      ok = false;
    } finally {
      this.#inflight.delete(controller);
    }
    if (this.#closed) return;
    if (ok) {
      this.fails = 0;
      this.#probing = false;
      return;
    }
    this.fails++;
    this.#onProbeFail();
    this.#timer = setTimeout(() => void this.#tick(), this.#health.intervalMs);
    this.#timer.unref();
  }
}
