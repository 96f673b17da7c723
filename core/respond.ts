// The finishing step of the query path: a handler's Reply becomes the bytes sent to this client.
// ID, RD, CD and the question come from the query; EDNS is answered with our buffer size; a UDP
// answer over the client's limit is truncated with TC=1.
import { decodeMessage, Rcode, WireAnswer, WireReply, type AnswerLayout, type Edns, type EdnsOption, type Message, type Reply, type WireRecords } from './message.js';
import { encodeMessage, scanMessage, type WireScan } from './wire.js';

export interface ReplyTarget {
  readonly query: Message;
  /** Raw bytes of the query (for copying the question's exact case), when it came from the wire. */
  readonly queryWire?: Buffer;
  readonly questionEnd?: number;
  /** Largest reply allowed: the client's UDP size (bounded by ours) or 65535 over TCP. */
  readonly maxSize: number;
  /** Our EDNS buffer size, advertised in the OPT we send. */
  readonly ednsSize: number;
}

export interface Finished {
  readonly wire: Buffer;
  readonly rcode: number;
  readonly truncated: boolean;
}

function ourEdns(query: Message, ednsSize: number, options: readonly EdnsOption[] | undefined): Edns | undefined {
  if (!query.edns) return undefined;
  return options && options.length > 0 ? { udpSize: ednsSize, do: query.edns.do, version: 0, options } : { udpSize: ednsSize, do: query.edns.do, version: 0 };
}

/** A Message reply: encoded as the answer to the client's query, its EDNS options in our OPT. */
export function finishMessage(reply: Message, t: ReplyTarget): Finished {
  const edns = ourEdns(t.query, t.ednsSize, reply.edns?.options);
  const wire = encodeMessage(reply, { maxSize: t.maxSize, replyTo: { query: t.query, edns } });
  return { wire, rcode: reply.rcode, truncated: (wire[2]! & 0x02) !== 0 };
}

/**
 * A wire reply: patched in place (its bytes are made for this one reply), or re-encoded when it must
 * shrink or when its question is not the client's (a reply to a derived request).
 */
function finishWire(reply: WireReply, t: ReplyTarget): Finished {
  const q = t.query;
  let wire = Buffer.from(reply.wire.buffer, reply.wire.byteOffset, reply.wire.byteLength);
  let scan: Pick<WireScan, 'questionEnd' | 'optAt'> | undefined = reply.layout;
  if (!scan) {
    try {
      scan = scanMessage(wire);
    } catch {
      // A plugin handed us bytes we cannot walk: do not pass them on.
      return finishMessage({ ...q, qr: true, rcode: Rcode.SERVFAIL, answer: [], authority: [], additional: [] }, t);
    }
  }
  // The question must be the client's own: copied over a same-length, same-name one (keeping the
  // client's case), else written anew. Pointers into the question rule out splicing bytes in.
  if (!t.queryWire || t.questionEnd !== scan.questionEnd || !sameQuestion(wire, t.queryWire, t.questionEnd)) {
    return finishDecoded(reply, t);
  }
  wire.writeUInt16BE(q.id, 0);
  wire[2] = (wire[2]! & ~0x01) | 0x80 | (q.rd ? 0x01 : 0);
  wire[3] = (wire[3]! & ~0x10) | (q.cd ? 0x10 : 0);
  t.queryWire.copy(wire, 12, 12, t.questionEnd);
  // Replace whatever OPT the reply has with ours (or none, for a client without EDNS).
  if (scan.optAt !== undefined) {
    if (!optIsLast(wire, scan.optAt)) return finishDecoded(reply, t);
    wire = wire.subarray(0, scan.optAt);
    wire.writeUInt16BE(wire.readUInt16BE(10) - 1, 10);
  }
  const edns = ourEdns(q, t.ednsSize, reply.options);
  const opt = edns ? optRecord(edns) : undefined;
  const room = t.maxSize - (opt?.length ?? 0);
  if (wire.length > room) {
    // Bytes that say where their records end are cut at one, as the encoder would have; others decoded.
    const records = reply.layout?.records;
    if (!records) return finishDecoded(reply, t);
    wire = cutAtRecord(wire, records, scan.questionEnd, room);
  }
  if (opt) {
    wire = Buffer.concat([wire, opt]);
    wire.writeUInt16BE(wire.readUInt16BE(10) + 1, 10);
  }
  return { wire, rcode: wire[3]! & 0x0f, truncated: (wire[2]! & 0x02) !== 0 };
}

/** What the fast path knows of the query it answers: its bytes, and what it allows in a reply. */
export interface AnswerTarget {
  readonly queryWire: Buffer;
  readonly questionEnd: number;
  readonly maxSize: number;
  readonly ednsSize: number;
  /** The query had an OPT record: the reply gets ours. */
  readonly edns: boolean;
  readonly do: boolean;
}

/** The OPT record of a fast reply: root, type 41, our size, DO echoed, no options. */
const FAST_OPT_SIZE = 11;

/**
 * A fast answer (kept bytes) as the reply to this query, in one allocation: the bytes copied, the
 * client's ID, RD, CD and question written over the copy, `shape` run on it (loadbalance), cut at a
 * record to the client's size, then our OPT. A WireAnswer whose question is not this one (a plugin's
 * bug) goes the long way: decoded and encoded again.
 */
export function finishAnswer(answer: WireAnswer, t: AnswerTarget, shape?: (reply: WireAnswer) => WireAnswer): Buffer {
  const kept = answer.wire;
  const q = t.queryWire;
  const qend = t.questionEnd;
  if (answer.layout.questionEnd !== qend || kept.length < qend) return finishForeign(answer, t);
  const optSize = t.edns ? FAST_OPT_SIZE : 0;
  let out = Buffer.allocUnsafe(kept.length + optSize);
  out.set(kept);
  // The client's question (its case) over the kept one, checked on the way: a few dozen bytes, cheaper
  // by hand than through Buffer#copy and a separate compare.
  for (let i = 12; i < qend; i++) {
    const x = out[i]!;
    const y = q[i]!;
    if (x !== y && !sameLetter(x, y)) return finishForeign(answer, t);
    out[i] = y;
  }
  out[0] = q[0]!;
  out[1] = q[1]!;
  out[2] = (out[2]! & ~0x01) | 0x80 | (q[2]! & 0x01);
  out[3] = (out[3]! & ~0x10) | (q[3]! & 0x10);
  let layout: AnswerLayout | undefined;
  let end = kept.length;
  if (shape) {
    const copy = new WireAnswer(optSize > 0 ? out.subarray(0, end) : out, answer.layout);
    const shaped = shape(copy);
    if (shaped.wire !== copy.wire) {
      // New bytes (a shaper that had to decode): copied again, with room for the OPT.
      end = shaped.wire.length;
      out = Buffer.allocUnsafe(end + optSize);
      out.set(shaped.wire);
    }
    layout = shaped.layout;
  }
  if (end + optSize > t.maxSize) end = cutAtRecord(out, (layout ?? answer.layout).records, qend, t.maxSize - optSize).length;
  if (optSize > 0) {
    out[end] = 0;
    out.writeUInt16BE(41, end + 1);
    out.writeUInt16BE(t.ednsSize, end + 3);
    out.writeUInt32BE(t.do ? 0x8000 : 0, end + 5);
    out.writeUInt16BE(0, end + 9);
    out.writeUInt16BE(out.readUInt16BE(10) + 1, 10);
  }
  return end + optSize === out.length ? out : out.subarray(0, end + optSize);
}

/**
 * The longest prefix of `wire` (no OPT) that ends at a record and fits in `room` bytes, with counts
 * and TC patched in place as encodeMessage sets them: TC when any record is left out.
 */
export function cutAtRecord(wire: Buffer, records: WireRecords, questionEnd: number, room: number): Buffer {
  const { ends } = records;
  let lo = 0;
  let hi = ends.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (ends[mid]! <= room) lo = mid + 1;
    else hi = mid;
  }
  const an = Math.min(lo, records.answer);
  const ns = Math.min(lo - an, records.authority);
  wire.writeUInt16BE(an, 6);
  wire.writeUInt16BE(ns, 8);
  wire.writeUInt16BE(lo - an - ns, 10);
  if (lo < ends.length) wire[2]! |= 0x02;
  return wire.subarray(0, lo === 0 ? questionEnd : ends[lo - 1]!);
}

/** A wire reply decoded and encoded again (its options are in its message()). */
function finishDecoded(reply: WireReply, t: ReplyTarget): Finished {
  let message: Message;
  try {
    message = reply.message();
  } catch {
    return finishMessage({ ...t.query, qr: true, rcode: Rcode.SERVFAIL, answer: [], authority: [], additional: [] }, t);
  }
  return finishMessage(message, t);
}

/** Our OPT record: root name, type 41, our size, DO echoed, the reply's options. */
function optRecord(edns: Edns): Buffer {
  const options = edns.options ?? [];
  let rdlen = 0;
  for (const o of options) rdlen += 4 + o.data.length;
  const opt = Buffer.alloc(11 + rdlen);
  opt.writeUInt16BE(41, 1);
  opt.writeUInt16BE(edns.udpSize, 3);
  if (edns.do) opt[7] = 0x80;
  opt.writeUInt16BE(rdlen, 9);
  let at = 11;
  for (const o of options) {
    opt.writeUInt16BE(o.code, at);
    opt.writeUInt16BE(o.data.length, at + 2);
    opt.set(o.data, at + 4);
    at += 4 + o.data.length;
  }
  return opt;
}

export function finishReply(reply: Reply, t: ReplyTarget): Finished {
  return reply instanceof WireReply ? finishWire(reply, t) : finishMessage(reply, t);
}

function sameQuestion(a: Buffer, b: Buffer, end: number): boolean {
  if (a.length < end) return false;
  for (let i = 12; i < end; i++) {
    const x = a[i]!;
    const y = b[i]!;
    if (x !== y && !sameLetter(x, y)) return false;
  }
  return true;
}

/** Two bytes are the same ASCII letter in another case (0x20 apart). */
function sameLetter(x: number, y: number): boolean {
  const lx = x | 0x20;
  return lx === (y | 0x20) && lx >= 0x61 && lx <= 0x7a;
}

/** A WireAnswer whose question is not the query's (a plugin's bug): decoded and encoded again. */
function finishForeign(answer: WireAnswer, t: AnswerTarget): Buffer {
  const q = t.queryWire;
  return finishWire(new WireReply(Buffer.from(answer.wire), answer.layout), { query: decodeMessage(q), queryWire: q, questionEnd: t.questionEnd, maxSize: t.maxSize, ednsSize: t.ednsSize }).wire;
}

function optIsLast(wire: Buffer, optAt: number): boolean {
  // OPT: root name (1) + type, class, ttl (8) + rdlength (2) + rdata.
  return optAt + 11 + wire.readUInt16BE(optAt + 9) === wire.length;
}

/** An error reply made from nothing but a readable header (FORMERR, NOTIMP for what we cannot decode). */
export function headerOnlyReply(queryWire: Buffer, rcode: number): Buffer {
  const out = Buffer.alloc(12);
  queryWire.copy(out, 0, 0, 4);
  out[2] = 0x80 | (queryWire[2]! & 0x79); // QR, keep opcode and RD
  out[3] = rcode & 0x0f;
  return out;
}
