// UDP to one upstream through a small pool of sockets that is rotated often: each socket is bound to a
// random port by the kernel, connected to the upstream (so ICMP errors surface as ECONNREFUSED), and
// retired after a few hundred queries. A socket per query gave the most port entropy but cost a socket,
// a bind, a connect and a close per query (p99 70 ms at 5,000 qps); the pool keeps the defences that
// matter against DNSpooq-style spoofing: ports that keep changing, CSPRNG IDs, and a reply taken only
// from the upstream's address and port with our ID and our question.
import dgram from 'node:dgram';
import { abortError, ExchangeError, isReplyTo, questionEnd, randomId, withId, type ExchangeOptions } from './exchange.js';
import type { Endpoint } from './to.js';

/** Sockets in use at once per upstream. */
export const POOL_SIZE = 4;
/** Queries a socket sends before it is retired (closed once its last answer is in). */
export const USES_PER_SOCKET = 256;

interface Pending {
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
  /** Queries written before the connect completed. */
  readonly queued: Buffer[] = [];

  constructor(to: Endpoint, onDrop: () => void, onDead: (s: PooledSocket) => void) {
    // Upstreams are IP literals: no trip through dns.lookup.
    const literal = (address: string, _f: unknown, cb: (err: null, a: string, family: number) => void) => cb(null, address, to.family);
    this.sock = dgram.createSocket({ type: to.family === 6 ? 'udp6' : 'udp4', lookup: literal as never });
    this.sock.on('message', (msg, rinfo) => {
      const p = msg.length >= 2 ? this.pending.get(msg.readUInt16BE(0)) : undefined;
      // A connected socket only hears its peer; check anyway, it costs nothing.
      if (!p || rinfo.port !== to.port || rinfo.address !== to.address || !isReplyTo(msg, p.wire, p.qend)) {
        onDrop();
        return;
      }
      p.finish(undefined, msg);
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
    try {
      this.sock.close();
    } catch {
      // already closed after an error
    }
  }
}

export class UdpPool {
  readonly #to: Endpoint;
  readonly #onDrop: () => void;
  readonly #active: PooledSocket[] = [];
  #next = 0;
  #closed = false;

  constructor(to: Endpoint, onDrop: () => void) {
    this.#to = to;
    this.#onDrop = onDrop;
  }

  exchange(query: Uint8Array, opts: ExchangeOptions): Promise<Buffer> {
    if (this.#closed) return Promise.reject(new ExchangeError('ECANCELED', `forward: ${this.#to.name} closed`));
    const s = this.#socket();
    let id = randomId();
    while (s.pending.has(id)) id = randomId();
    const wire = withId(query, id);
    s.uses++;
    return new Promise((resolve, reject) => {
      let timer: NodeJS.Timeout | undefined;
      const onAbort = (): void => pending.finish(abortError(opts.signal!));
      const cancel = (err: Error): void => pending.finish(err);
      const pending: Pending = {
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
      if (s.uses >= USES_PER_SOCKET) this.#retire(s);
      if (opts.signal?.aborted) return onAbort();
      opts.signal?.addEventListener('abort', onAbort, { once: true });
      opts.track?.add(cancel);
      timer = setTimeout(() => pending.finish(new ExchangeError('ETIMEDOUT', `no answer from ${this.#to.name} within ${opts.timeoutMs}ms`)), opts.timeoutMs);
      s.send(wire);
    });
  }

  /** The next socket, round-robin, opening new ones up to POOL_SIZE. */
  #socket(): PooledSocket {
    if (this.#active.length < POOL_SIZE) {
      const s = new PooledSocket(this.#to, this.#onDrop, (dead) => {
        this.#retire(dead);
        dead.close();
      });
      this.#active.push(s);
      return s;
    }
    this.#next = (this.#next + 1) % this.#active.length;
    return this.#active[this.#next]!;
  }

  #retire(s: PooledSocket): void {
    if (s.retired) return;
    s.retired = true;
    const i = this.#active.indexOf(s);
    if (i >= 0) this.#active.splice(i, 1);
    if (s.pending.size === 0 && s.uses > 0 && s.connected) s.close();
  }

  close(): void {
    this.#closed = true;
    const err = new ExchangeError('ECANCELED', `forward: ${this.#to.name} closed`);
    for (const s of this.#active.splice(0)) {
      for (const p of [...s.pending.values()]) p.finish(err);
      s.close();
    }
  }
}
