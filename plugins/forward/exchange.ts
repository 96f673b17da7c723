// Sending one query to one upstream over UDP, with the defences dnsmasq lacked (DNSpooq): IDs from a
// cryptographic source, a fresh randomly bound source port per query, and a reply taken only from the
// upstream's address and port with our ID and our question. Everything else is dropped and counted.
import { randomFillSync } from 'node:crypto';
import dgram from 'node:dgram';
import type { Endpoint } from './to.js';

const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

/** A transaction ID from the CSPRNG (drawn in batches: one randomFillSync per 2,048 IDs). */
export function randomId(): number {
  if (poolAt >= POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  const id = (POOL[poolAt]! << 8) | POOL[poolAt + 1]!;
  poolAt += 2;
  return id;
}

/** Offset just past the question of a one-question query we built. */
export function questionEnd(query: Uint8Array): number {
  let pos = 12;
  while (query[pos] !== 0) pos += query[pos]! + 1;
  return pos + 5;
}

/**
 * Is `reply` the answer to `query`: a response, same ID, one question equal to ours (the name compared
 * case-insensitively, so a 0x20-randomising upstream still matches)?
 */
export function isReplyTo(reply: Uint8Array, query: Uint8Array, qend: number): boolean {
  if (reply.length < qend || (reply[2]! & 0x80) === 0) return false;
  if (reply[0] !== query[0] || reply[1] !== query[1]) return false;
  if (reply[4] !== 0 || reply[5] !== 1) return false;
  for (let i = 12; i < qend; i++) {
    const a = reply[i]!;
    const b = query[i]!;
    if (a !== b && !(isLetter(a) && (a | 0x20) === (b | 0x20))) return false;
  }
  return true;
}

function isLetter(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

export class ExchangeError extends Error {
  readonly code: string;
  constructor(code: string, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = 'ExchangeError';
    this.code = code;
  }
}

export interface ExchangeOptions {
  readonly timeoutMs: number;
  readonly signal?: AbortSignal;
  /** Called for every datagram or frame that is not our answer. */
  readonly onDrop?: () => void;
  /** Where the exchange registers its cancel function while it runs (so close() can end it). */
  readonly track?: Set<(err: Error) => void>;
}

// Upstreams are IP literals: resolve them without a trip through dns.lookup.
const literal = (address: string, _family: unknown, cb: (err: null, address: string, family: number) => void): void =>
  cb(null, address, address.includes(':') ? 6 : 4);

/**
 * One query over UDP from a socket of its own: bound to a random port by the kernel and connected to
 * the upstream, so ICMP errors (a dead upstream) surface at once as ECONNREFUSED.
 */
export function udpExchange(to: Endpoint, query: Uint8Array, opts: ExchangeOptions): Promise<Buffer> {
  // `query` is a template: each exchange sends its own copy with a fresh ID.
  return new Promise((resolve, reject) => {
    const qend = questionEnd(query);
    const sock = dgram.createSocket({ type: to.family === 6 ? 'udp6' : 'udp4', lookup: literal as never });
    const wire = withId(query, randomId());
    let done = false;
    const finish = (err: Error | undefined, reply?: Buffer): void => {
      if (done) return;
      done = true;
      clearTimeout(timer);
      opts.signal?.removeEventListener('abort', onAbort);
      opts.track?.delete(cancel);
      try {
        sock.close();
      } catch {
        // already closed by an error
      }
      if (err) reject(err);
      else resolve(reply!);
    };
    const onAbort = (): void => finish(abortError(opts.signal!));
    const cancel = (err: Error): void => finish(err);
    opts.track?.add(cancel);
    const timer = setTimeout(() => finish(new ExchangeError('ETIMEDOUT', `no answer from ${to.name} within ${opts.timeoutMs}ms`)), opts.timeoutMs);
    if (opts.signal?.aborted) return onAbort();
    opts.signal?.addEventListener('abort', onAbort, { once: true });
    sock.on('error', (err: NodeJS.ErrnoException) => finish(new ExchangeError(err.code ?? 'EIO', `${to.name}: ${err.message}`, { cause: err })));
    sock.on('message', (msg, rinfo) => {
      // A connected socket only hears its peer; check anyway, it costs nothing.
      if (rinfo.port !== to.port || rinfo.address !== to.address || !isReplyTo(msg, wire, qend)) {
        opts.onDrop?.();
        return;
      }
      finish(undefined, msg);
    });
    sock.connect(to.port, to.address, () => {
      if (!done) sock.send(wire);
    });
  });
}

/** A copy of `query` with `id` written in. */
export function withId(query: Uint8Array, id: number, prefix = 0): Buffer {
  const out = Buffer.allocUnsafe(prefix + query.length);
  out.set(query, prefix);
  out[prefix] = id >> 8;
  out[prefix + 1] = id & 0xff;
  return out;
}

export function abortError(signal: AbortSignal): Error {
  const reason: unknown = signal.reason;
  return reason instanceof Error ? reason : new ExchangeError('ABORT_ERR', 'the query was aborted');
}
