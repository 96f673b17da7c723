// What the UDP and TCP exchanges share, with the defences dnsmasq lacked (DNSpooq): IDs from a
// cryptographic source, and a reply taken only when it carries our ID and our question (udp-pool.ts
// adds source ports that keep changing). Everything else is dropped and counted.
import { randomFillSync } from 'node:crypto';

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
