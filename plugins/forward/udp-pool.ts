// UDP to one upstream from random source ports: a set of `sockets` slots, one picked at random (CSPRNG) per
// query, each holding a socket bound by the kernel to a random ephemeral port and connected to the
// upstream (the kernel then delivers only the upstream's datagrams, and ICMP errors surface as
// ECONNREFUSED). A socket is retired after `uses` queries and its slot refilled on the next pick, so the
// ports in use keep moving through the whole ephemeral range, as unbound's outgoing-range does. With
// uses 1 every query gets a fresh socket. A datagram is taken only from the upstream's address and port,
// for a query still waiting, when it echoes our ID and question (exchange.ts); anything else is dropped
// and the query keeps waiting for its real answer.
import dgram from 'node:dgram';
import { randomInt } from 'node:crypto';
import { abortError, acceptReply, ExchangeError, isReplyTo, randomId, randomizeCase, withId, type ExchangeOptions } from './exchange.js';
import { questionEnd } from '../../core/wire.js';
import type { Endpoint } from './to.js';

export interface UdpPoolOptions {
  /** Socket slots, one chosen at random per query. */
  readonly sockets: number;
  /** Queries a socket sends before it is retired (closed once its last answer is in). */
  readonly uses: number;
  /** 0x20: random letter case in the question, echoed exactly by the upstream. */
  readonly randomizeCase: boolean;
}

/** The defaults: see README (Security) for the measurements behind them. */
export const UDP_DEFAULTS: UdpPoolOptions = { sockets: 64, uses: 64, randomizeCase: true };

interface Pending {
  /** The query as the client sent it (the client's case). */
  readonly query: Uint8Array;
  /** The query as it went out: our ID, and the 0x20 case. */
  readonly wire: Buffer;
  readonly qend: number;
  finish(err: Error | undefined, reply?: Buffer): void;
}

class PooledSocket {
  readonly sock: dgram.Socket;
  readonly pending = new Map<number, Pending>();
  uses = 0;
  retired = false;
  connected = false;
  closed = false;
  /** Queries written before the connect completed. */
  readonly queued: Buffer[] = [];

  constructor(to: Endpoint, exactCase: boolean, onDrop: () => void, onDead: (s: PooledSocket) => void) {
    // Upstreams are IP literals: no trip through dns.lookup.
    const literal = (address: string, _f: unknown, cb: (err: null, a: string, family: number) => void) => cb(null, address, to.family);
    this.sock = dgram.createSocket({ type: to.family === 6 ? 'udp6' : 'udp4', lookup: literal as never });
    this.sock.on('message', (msg, rinfo) => {
      const p = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      // A connected socket only hears its peer; check anyway, it costs nothing.
      if (!p || rinfo.port !== to.port || rinfo.address !== to.address || !isReplyTo(msg, p.wire, p.qend, exactCase)) {
        onDrop();
        return;
      }
      const reply = acceptReply(msg, p.query, p.qend);
      if (reply instanceof Error) p.finish(reply);
      else p.finish(undefined, reply);
    });
    this.sock.on('error', (err: NodeJS.ErrnoException) => {
      // ECONNREFUSED and friends: every query on this socket went to the same dead upstream.
      const e = new ExchangeError(err.code ?? 'EIO', `${to.name}: ${err.message}`, { cause: err });
      for (const p of [...this.pending.values()]) p.finish(e);
      onDead(this);
    });
    this.sock.connect(to.port, to.address, () => {
      this.connected = true;
      for (const wire of this.queued.splice(0)) this.sock.send(wire);
    });
  }

  send(wire: Buffer): void {
    if (this.connected) this.sock.send(wire);
    else this.queued.push(wire);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    try {
      this.sock.close();
    } catch {
      // already closed after an error
    }
  }
}

export class UdpPool {
  readonly #to: Endpoint;
  readonly #opts: UdpPoolOptions;
  readonly #onDrop: () => void;
  readonly #slots: (PooledSocket | undefined)[];
  #closed = false;

  constructor(to: Endpoint, onDrop: () => void, opts: UdpPoolOptions = UDP_DEFAULTS) {
    this.#to = to;
    this.#onDrop = onDrop;
    this.#opts = opts;
    this.#slots = new Array<PooledSocket | undefined>(Math.max(1, opts.sockets)).fill(undefined);
  }

  exchange(query: Uint8Array, opts: ExchangeOptions): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new ExchangeError('ECANCELED', `forward: ${this.#to.name} closed`));
    const slot = this.#slots.length === 1 ? 0 : randomInt(this.#slots.length);
    const s = (this.#slots[slot] ??= this.#open(slot));
    let id = randomId();
    while (s.pending.has(id)) id = randomId();
    const wire = withId(query, id);
    if (this.#opts.randomizeCase) randomizeCase(wire, 0);
    if (++s.uses >= this.#opts.uses) this.#retire(s, slot);
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => pending.finish(abortError(opts.signal!));
      const cancel = (err: Error): void => pending.finish(err);
      const pending: Pending = {
        query,
        wire,
        qend: questionEnd(query),
        finish: (err, reply) => {
          if (s.pending.get(id) !== pending) return;
          s.pending.delete(id);
          clearTimeout(timer);
          opts.signal?.removeEventListener('abort', onAbort);
          opts.track?.delete(cancel);
          if (s.retired && s.pending.size === 0) s.close();
          if (err) reject(err);
          else resolve(reply!);
        },
      };
      s.pending.set(id, pending);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      opts.track?.add(cancel);
      timer = setTimeout(() => pending.finish(new ExchangeError('ETIMEDOUT', `no answer from ${this.#to.name} within ${opts.timeoutMs}ms`)), opts.timeoutMs);
      s.send(wire);
    });
  }

  #open(slot: number): PooledSocket {
    return new PooledSocket(this.#to, this.#opts.randomizeCase, this.#onDrop, (dead) => {
      this.#retire(dead, slot);
      dead.close();
    });
  }

  /** Frees the slot; the socket closes once its last answer is in. */
  #retire(s: PooledSocket, slot: number): void {
    if (s.retired) return;
    s.retired = true;
    if (this.#slots[slot] === s) this.#slots[slot] = undefined;
  }

  close(): void {
    this.#closed = true;
    const err = new ExchangeError('ECANCELED', `forward: ${this.#to.name} closed`);
    for (let i = 0; i < this.#slots.length; i++) {
      const s = this.#slots[i];
      if (!s) continue;
      this.#slots[i] = undefined;
      for (const p of [...s.pending.values()]) p.finish(err);
      s.close();
    }
  }
}
