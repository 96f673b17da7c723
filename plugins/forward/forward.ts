// The forward handler: pick upstreams by policy, skip the down ones, pass the upstream's bytes back
// untouched; SERVFAIL (thrown) when every try failed within the 5 s deadline.
import { randomInt } from 'node:crypto';
import { Rcode, WireReply, type Reply } from '../../core/message.js';
import { RateLimitedLog, type Logger } from '../../core/log.js';
import { EdeCode } from '../../core/edns.js';
import type { FastPath, Handler, Next, Request, Transport } from '../../core/plugin.js';
import { DnsError, SLOW_PATH } from '../../core/plugin.js';
import { encodeMessage } from '../../core/wire.js';
import { isInZone } from '../../core/zones.js';
import { ExchangeError } from './exchange.js';
import type { ForwardMetrics } from './metrics.js';
import type { Policy } from './policy.js';
import type { Upstream } from './upstream.js';

export interface ForwardConfig {
  readonly from: string;
  readonly except: readonly string[];
  readonly forceTcp: boolean;
  readonly preferUdp: boolean;
  /** 0: upstreams are never marked down. */
  readonly maxFails: number;
  /** 0: no limit. */
  readonly maxConcurrent: number;
}

/** CoreDNS's overall deadline per query, and its read timeout per try. */
const DEADLINE_MS = 5000;
const READ_TIMEOUT_MS = 2000;

export class Forward implements Handler {
  readonly upstreams: readonly Upstream[];
  readonly #config: ForwardConfig;
  readonly #policy: Policy;
  readonly #metrics: ForwardMetrics;
  readonly #logger: Logger;
  readonly #malformedLog = new RateLimitedLog(30_000);
  #closed = false;
  #concurrent = 0;

  constructor(config: ForwardConfig, upstreams: readonly Upstream[], policy: Policy, metrics: ForwardMetrics, logger: Logger) {
    this.#config = config;
    this.#logger = logger;
    this.upstreams = upstreams;
    this.#policy = policy;
    this.#metrics = metrics;
  }

  /** Upstream answers are not kept: every query forward would handle takes the ordinary path. */
  readonly fast: FastPath = { answer: () => SLOW_PATH };

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (!this.#matches(req.qname)) return next();
    const max = this.#config.maxConcurrent;
    if (max > 0 && this.#concurrent >= max) {
      this.#metrics.rejects.inc();
      throw new DnsError(Rcode.REFUSED, `concurrent queries exceeded maximum ${max}`);
    }
    this.#concurrent++;
    const done = (): void => void this.#concurrent--;
    const reply = this.#forward(req);
    reply.then(done, done);
    return reply;
  }

  close(): void {
    this.#closed = true;
    for (const u of this.upstreams) u.close();
  }

  #matches(qname: string): boolean {
    const { from, except } = this.#config;
    if (!isInZone(qname, from)) return false;
    if (qname === from) return true;
    for (const z of except) if (isInZone(qname, z)) return false;
    return true;
  }

  async #forward(req: Request): Promise<Reply> {
    // Shutdown ends exchanges through Upstream.close(); AbortSignal.any would cost ~90 µs a query.
    const signal = req.signal;
    const query = encodeMessage(req.query);
    const list = this.#policy.list(this.upstreams);
    const deadline = performance.now() + DEADLINE_MS;
    const maxFails = this.#config.maxFails;
    let i = 0;
    let downs = 0;
    let attempts = 0;
    let lastErr: unknown;
    // Each upstream at most twice (CoreDNS's max_connect_attempts default), within the deadline.
    while (attempts < 2 * list.length && !this.#closed) {
      const left = deadline - performance.now();
      if (left <= 0) break;
      if (i >= list.length) {
        i = 0;
        downs = 0;
      }
      let up = list[i++]!;
      if (up.down(maxFails)) {
        if (++downs < list.length) continue;
        // Every upstream is down: assume health checking is what is broken and try one anyway.
        up = list[randomInt(list.length)]!;
        this.#metrics.broken.inc();
      }
      attempts++;
      const start = performance.now();
      try {
        const wire = await this.#exchange(up, query, req.client.transport, Math.min(READ_TIMEOUT_MS, left), signal);
        this.#metrics.observe(up.to.name, wire[3]! & 0x0f, (performance.now() - start) / 1000);
        return new WireReply(wire);
      } catch (err) {
        if (signal.aborted) throw err;
        lastErr = err;
        if (err instanceof ExchangeError && err.code === 'EMALFORMED') this.#malformed(up, req, err);
        if (err instanceof ExchangeError && err.code === 'ETLS') this.#refusedCertificate(up, err);
        if (maxFails !== 0) up.healthcheck();
      }
    }
    const why = lastErr instanceof Error ? lastErr.message : 'no healthy upstream';
    // The client learns why (RFC 8914): no upstream answered in time, or the network failed.
    const timedOut = lastErr === undefined || (lastErr as { code?: string }).code === 'ETIMEDOUT';
    const extendedError = { infoCode: timedOut ? EdeCode.NoReachableAuthority : EdeCode.NetworkError, extraText: `forward: ${why}` };
    throw new DnsError(Rcode.SERVFAIL, `forwarding ${req.qname} ${req.qtype} failed: ${why}`, { cause: lastErr, extendedError });
  }

  /** A malformed reply fails its try: counted, and logged once per interval per upstream. */
  #malformed(up: Upstream, req: Request, err: Error): void {
    this.#metrics.malformed(up.to.name);
    const line = this.#malformedLog.line(up.to.name, `${up.to.name} sent a ${err.message}, for ${req.qname} ${req.qtype} (a failed try)`);
    if (line) this.#logger.warn(line);
  }

  /** A tls:// upstream whose certificate does not verify (wrong name, unknown CA): logged once per interval. */
  #refusedCertificate(up: Upstream, err: Error): void {
    const line = this.#malformedLog.line(`tls ${up.to.name}`, err.message);
    if (line) this.#logger.error(line);
  }

  /** Mirrors the client's transport unless force_tcp or prefer_udp; prefer_udp retries a TC answer over TCP. */
  async #exchange(up: Upstream, query: Uint8Array, client: Transport, timeoutMs: number, signal: AbortSignal): Promise<Buffer> {
    const { forceTcp, preferUdp } = this.#config;
    const transport: Transport = forceTcp ? 'tcp' : preferUdp ? 'udp' : client;
    const reply = await up.exchange(query, transport, { timeoutMs, signal });
    if (transport === 'udp' && preferUdp && (reply[2]! & 0x02) !== 0) return up.exchange(query, 'tcp', { timeoutMs, signal });
    return reply;
  }
}
