// A reused, pipelined TCP (or TLS, tls.ts) connection to one upstream: many queries in flight at once, matched by ID
// and question, and checked whole before use (exchange.ts); frames are reassembled from the stream by
// their 2-byte length. Closed after `expire` without traffic. No 0x20 here: a spoofer off the path
// cannot get into a TCP connection, and a truncated answer retried over TCP must not fail on case.
import net from 'node:net';
import { abortError, acceptReply, ExchangeError, isReplyTo, randomId, withId, type ExchangeOptions } from './exchange.js';
import { questionEnd } from '../../core/wire.js';
import { isCertificateError } from './tls.js';
import type { Endpoint } from './to.js';

/** Opens the stream to an upstream: plain TCP, or TLS (tls.ts). */
export type Connector = (to: Endpoint) => net.Socket;

const connectTcp: Connector = (to) => net.connect({ host: to.address, port: to.port, family: to.family, noDelay: true });

interface Pending {
  readonly query: Uint8Array;
  readonly frame: Buffer;
  readonly qend: number;
  finish(err: Error | undefined, reply?: Buffer): void;
}

export class TcpConnection {
  readonly #sock: net.Socket;
  readonly #pending = new Map<number, Pending>();
  readonly #expireMs: number;
  readonly #onDrop: (() => void) | undefined;
  #buf: Buffer | undefined;
  #idle: NodeJS.Timeout | undefined;
  #closed = false;
  /** Has this connection answered before (a failure on it may be a stale connection, worth one retry)? */
  used = false;

  constructor(to: Endpoint, expireMs: number, onDrop?: () => void, connect: Connector = connectTcp) {
    this.#expireMs = expireMs;
    this.#onDrop = onDrop;
    this.#sock = connect(to);
    this.#sock.on('data', (chunk) => this.#onData(chunk));
    this.#sock.on('error', (err: NodeJS.ErrnoException) => {
      const code = isCertificateError(err) ? 'ETLS' : err.code ?? 'EIO';
      this.#fail(new ExchangeError(code, `${to.name}: ${code === 'ETLS' ? 'TLS certificate refused: ' : ''}${err.message}`, { cause: err }));
    });
    this.#sock.on('close', () => this.#fail(new ExchangeError('ECLOSED', `${to.name} closed the connection`)));
    this.#startIdle();
  }

  get closed(): boolean {
    return this.#closed;
  }

  exchange(query: Uint8Array, opts: ExchangeOptions): Promise<Buffer> {
    return new Promise((resolve, reject) => {
      if (this.#closed) return reject(new ExchangeError('ECLOSED', 'connection closed'));
      if (opts.signal?.aborted) return reject(abortError(opts.signal));
      let id = randomId();
      while (this.#pending.has(id)) id = randomId();
      const frame = withId(query, id, 2);
      frame.writeUInt16BE(query.length, 0);
      const onAbort = (): void => p.finish(abortError(opts.signal!));
      const timer = setTimeout(() => p.finish(new ExchangeError('ETIMEDOUT', `no answer within ${opts.timeoutMs}ms`)), opts.timeoutMs);
      const p: Pending = {
        query,
        frame,
        qend: questionEnd(query) + 2,
        finish: (err, reply) => {
          if (this.#pending.get(id) !== p) return;
          this.#pending.delete(id);
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          if (this.#pending.size === 0) this.#startIdle();
          if (err) reject(err);
          else resolve(reply!);
        },
      };
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      this.#pending.set(id, p);
      this.#stopIdle();
      this.#sock.write(frame);
    });
  }

  close(): void {
    this.#fail(new ExchangeError('ECLOSED', 'connection closed'));
  }

  #onData(chunk: Buffer): void {
    let buf = this.#buf ? Buffer.concat([this.#buf, chunk]) : chunk;
    while (buf.length >= 2) {
      const len = buf.readUInt16BE(0);
      if (buf.length < 2 + len) break;
      this.#onFrame(buf.subarray(2, 2 + len));
      buf = buf.subarray(2 + len);
    }
    this.#buf = buf.length > 0 ? buf : undefined;
  }

  #onFrame(msg: Buffer): void {
    const p = msg.length >= 2 ? this.#pending.get(msg.readUInt16BE(0)) : undefined;
    if (p === undefined || !isReplyTo(msg, p.frame.subarray(2), p.qend - 2, false)) {
      this.#onDrop?.();
      return;
    }
    this.used = true;
    const reply = acceptReply(msg, p.query, p.qend - 2);
    if (reply instanceof Error) p.finish(reply);
    else p.finish(undefined, reply);
  }

  #fail(err: Error): void {
    if (!this.#closed) {
      this.#closed = true;
      this.#stopIdle();
      this.#sock.destroy();
    }
    for (const p of [...this.#pending.values()]) p.finish(err);
  }

  #startIdle(): void {
    this.#stopIdle();
    this.#sock.unref();
    this.#idle = setTimeout(() => this.close(), this.#expireMs);
    this.#idle.unref();
  }

  #stopIdle(): void {
    if (this.#idle) clearTimeout(this.#idle);
    this.#idle = undefined;
    this.#sock.ref();
  }
}

/** One reusable connection per upstream, replaced when it closes. */
export class TcpPool {
  #conn: TcpConnection | undefined;
  constructor(
    private readonly to: Endpoint,
    private readonly expireMs: number,
    private readonly onDrop?: () => void,
    private readonly connect: Connector = connectTcp,
  ) {}

  async exchange(query: Uint8Array, opts: ExchangeOptions): Promise<Buffer> {
    const conn = this.#get();
    try {
      return await conn.exchange(query, opts);
    } catch (err) {
      // A reused connection the upstream had already closed: one more try on a fresh one (CoreDNS's ErrCachedClosed).
      if (conn.used && err instanceof ExchangeError && (err.code === 'ECLOSED' || err.code === 'ECONNRESET' || err.code === 'EPIPE')) {
        return this.#get().exchange(query, opts);
      }
      throw err;
    }
  }

  close(): void {
    this.#conn?.close();
    this.#conn = undefined;
  }

  #get(): TcpConnection {
    if (!this.#conn || this.#conn.closed) this.#conn = new TcpConnection(this.to, this.expireMs, this.onDrop, this.connect);
    return this.#conn;
  }
}
