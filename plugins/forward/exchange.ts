// What the UDP and TCP exchanges share. Every reply is hostile until checked: a reply is taken only when it
// is a response with our ID, our opcode and our question byte for byte (the 0x20 case included), and it
// is used only when the whole message is well-formed (core/wire-check.ts). IDs and the 0x20 case come
// from a cryptographic source; udp-pool.ts adds random source ports.
import { randomFillSync } from 'node:crypto';
import { checkMessage } from '../../core/wire-check.js';

const POOL = Buffer.alloc(4096);
let poolAt = POOL.length;

function randomByte(): number {
  if (poolAt >= POOL.length) {
    randomFillSync(POOL);
    poolAt = 0;
  }
  return POOL[poolAt++]!;
}

/** A transaction ID from the CSPRNG (drawn in batches: one randomFillSync per 2,048 IDs). */
export function randomId(): number {
  return (randomByte() << 8) | randomByte();
}

function isLetter(c: number): boolean {
  const l = c | 0x20;
  return l >= 0x61 && l <= 0x7a;
}

/**
 * 0x20 (draft-vixie-dnsext-dns0x20): gives each letter of the question name a random case, in place. An
 * upstream echoes the name as sent, so a spoofer must also guess one bit per letter.
 */
export function randomizeCase(wire: Uint8Array, at: number): void {
  let bits = 0;
  let left = 0;
  let pos = at + 12;
  for (let l = wire[pos]!; l !== 0; l = wire[pos]!) {
    const end = pos + 1 + l;
    for (let i = pos + 1; i < end; i++) {
      const c = wire[i]!;
      if (!isLetter(c)) continue;
      if (left === 0) {
        bits = randomByte();
        left = 8;
      }
      wire[i] = bits & 1 ? c | 0x20 : c & ~0x20;
      bits >>= 1;
      left--;
    }
    pos = end;
  }
}

/** Letters in the question name of a query we built: the bits 0x20 adds. */
export function caseBits(query: Uint8Array): number {
  let n = 0;
  let pos = 12;
  for (let l = query[pos]!; l !== 0; l = query[pos]!) {
    for (let i = pos + 1; i <= pos + l; i++) if (isLetter(query[i]!)) n++;
    pos += l + 1;
  }
  return n;
}

/**
 * Is `reply` the answer to `sent` (the query as it went out): a response with the same ID and opcode,
 * and exactly one question equal to ours? `exactCase`: byte for byte (0x20 on); otherwise the name's
 * letters compare in either case (an upstream that does not keep the case).
 */
export function isReplyTo(reply: Uint8Array, sent: Uint8Array, qend: number, exactCase: boolean): boolean {
  if (reply.length < qend || (reply[2]! & 0x80) === 0) return false;
  if (reply[0] !== sent[0] || reply[1] !== sent[1] || (reply[2]! & 0x78) !== (sent[2]! & 0x78)) return false;
  if (reply[4] !== 0 || reply[5] !== 1) return false;
  for (let i = 12; i < qend; i++) {
    const a = reply[i]!;
    const b = sent[i]!;
    if (a !== b && (exactCase || !isLetter(a) || (a | 0x20) !== (b | 0x20))) return false;
  }
  return true;
}

/**
 * The reply to use, once isReplyTo said it is ours: an ExchangeError when it is malformed (a failed
 * try), else the reply with the question written back as the client sent it (undoing 0x20, so the
 * cache and the plugins above see the client's name). A truncated (TC) reply cut inside a record, as
 * some servers send, is kept as its header and question: the client retries over TCP anyway.
 */
export function acceptReply(reply: Buffer, query: Uint8Array, qend: number): Buffer | ExchangeError {
  const why = checkMessage(reply);
  if (why !== undefined) {
    if ((reply[2]! & 0x02) === 0) return new ExchangeError('EMALFORMED', `malformed reply: ${why}`);
    reply = reply.subarray(0, qend);
    reply.fill(0, 6, 12);
  }
  for (let i = 12; i < qend; i++) reply[i] = query[i]!; // a loop: subarray() would cost more than the copy
  return reply;
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
  /** Called for every datagram or frame that is not our answer (not ours, or a spoof). */
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
