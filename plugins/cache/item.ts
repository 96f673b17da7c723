// A cached reply kept in wire form: the bytes without OPT (hop-by-hop), the offsets of every TTL field,
// and when it was stored. A hit copies the bytes and writes the remaining TTL at those offsets.
import { WireAnswer, WireReply, isWireReply, type Reply, type WireLayout } from '../../core/message.js';
import { encodeMessage, keptCopy, scanMessage, type WireScan } from '../../core/wire.js';

export type Kind = 'success' | 'denial';

export interface Item {
  readonly wire: Buffer;
  readonly ttlOffsets: readonly number[];
  /** Where the question ends (the stored bytes hold no OPT), so the server need not walk them per hit. */
  readonly layout: WireLayout;
  /** When stored (ms, the cache's clock). */
  readonly stored: number;
  /** Seconds it is fresh for, after clamping. */
  readonly origTtl: number;
  readonly kind: Kind;
  /** Popularity for prefetch: hits with no gap longer than the prefetch duration (CoreDNS's freq). */
  hits: number;
  last: number;
  /** The bytes fast-path hits share (AA set), made on the first one, and the TTL now written in them. */
  hit?: WireAnswer;
  hitTtl?: number;
}

/** Seconds left (negative once expired); CoreDNS truncates the elapsed time to whole seconds. */
export function remaining(item: Item, now: number): number {
  return item.origTtl - Math.floor((now - item.stored) / 1000);
}

/** A copy of the item's bytes with every TTL set to `ttl`; AA set on hits as CoreDNS does. */
export function materialize(item: Item, ttl: number, aa: boolean): WireReply {
  const out = Buffer.allocUnsafe(item.wire.length);
  item.wire.copy(out);
  const t = ttl > 0 ? ttl : 0;
  for (const off of item.ttlOffsets) out.writeUInt32BE(t, off);
  if (aa) out[2]! |= 0x04;
  return new WireReply(out, item.layout);
}

/**
 * A hit as the fast path sends it (materialize's bytes, shared by every hit in the same second): the
 * TTLs are written again only when `ttl` changes. Undefined when the bytes' record ends are unknown.
 */
export function hitAnswer(item: Item, ttl: number): WireAnswer | undefined {
  const t = ttl > 0 ? ttl : 0;
  let hit = item.hit;
  // Most hits come within the second of the previous one: the bytes are ready and nothing else is read.
  if (hit !== undefined && item.hitTtl === t) return hit;
  if (hit === undefined) {
    const records = item.layout.records;
    if (records === undefined) return undefined;
    const wire = keptCopy(item.wire);
    wire[2]! |= 0x04;
    item.hit = hit = new WireAnswer(wire, { questionEnd: item.layout.questionEnd, records });
  }
  for (const off of item.ttlOffsets) hit.wire.writeUInt32BE(t, off);
  item.hitTtl = t;
  return hit;
}

/** CoreDNS's response.Typify, on a scanned message. */
export type ReplyType = 'noerror' | 'delegation' | 'nxdomain' | 'nodata' | 'servfail' | 'other';

export function typify(scan: WireScan): ReplyType {
  const rcode = scan.rcode;
  if (rcode === 0 && scan.counts[1] > 0) return 'noerror';
  if (scan.soa && rcode === 0) return 'nodata';
  if (scan.soa && rcode === 3) return 'nxdomain';
  if (rcode === 2) return 'servfail';
  if (rcode === 0 && scan.counts[2] > 0) return 'delegation';
  // NOERROR without answer or SOA, NXDOMAIN without SOA: RFC 2308 5 says not to cache them.
  return 'other';
}

const MAX_DEFAULT_TTL = 3600;
const MIN_DEFAULT_TTL = 5;

/** CoreDNS's dnsutil.MinimalTTL: the smallest record TTL; negative answers also by the SOA MINIMUM (RFC 2308 5). */
export function messageTtl(scan: WireScan, type: ReplyType): number {
  if (type !== 'noerror' && type !== 'nxdomain' && type !== 'nodata') return MIN_DEFAULT_TTL;
  if (scan.ttlOffsets.length === 0) return MIN_DEFAULT_TTL;
  let ttl = Math.min(MAX_DEFAULT_TTL, scan.minTtl);
  if (type !== 'noerror' && scan.soa) ttl = Math.min(ttl, scan.soa.minimum);
  return ttl;
}

export interface Wire {
  readonly wire: Uint8Array;
  readonly scan: WireScan;
}

/** The reply's wire form and scan; undefined when it cannot be read or cannot be stored (extended rcode). */
export function wireOf(reply: Reply): Wire | undefined {
  let wire: Uint8Array;
  if (isWireReply(reply)) {
    wire = reply.wire;
  } else {
    if (reply.rcode > 15) return undefined;
    const { edns: _omitted, ...rest } = reply;
    wire = encodeMessage(rest);
  }
  try {
    return { wire, scan: scanMessage(wire) };
  } catch {
    return undefined;
  }
}

/** Does the reply's single question match the query (name case-insensitively, type, class)? */
export function questionMatches(buf: Uint8Array, qname: string, qtype: number, qclass: number): boolean {
  if (buf.length < 12 || buf[4] !== 0 || buf[5] !== 1) return false;
  let pos = 12;
  let name = '';
  for (;;) {
    const l = buf[pos];
    if (l === undefined || l > 63) return false;
    if (l === 0) {
      pos++;
      break;
    }
    if (pos + 1 + l > buf.length) return false;
    name += (name === '' ? '' : '.') + Buffer.from(buf.buffer, buf.byteOffset + pos + 1, l).toString('latin1');
    pos += 1 + l;
  }
  if (pos + 4 > buf.length) return false;
  return name.toLowerCase() === qname && ((buf[pos]! << 8) | buf[pos + 1]!) === qtype && ((buf[pos + 2]! << 8) | buf[pos + 3]!) === qclass;
}

/**
 * Copies the message without its OPT record (EDNS is hop-by-hop: the server adds its own), shifting the
 * TTL offsets that follow it. Undefined when the OPT is malformed or carries an extended rcode.
 */
export function withoutOpt(w: Wire): { wire: Buffer; ttlOffsets: number[]; layout: WireLayout } | undefined {
  const { wire, scan } = w;
  const optAt = scan.optAt;
  // Where each record ends, so that a hit too big for a client is cut at a record rather than decoded.
  const records = (ends: number[]): WireLayout => (optAt === undefined || scan.optSection === 3
    ? { questionEnd: scan.questionEnd, records: { ends, answer: scan.counts[1], authority: scan.counts[2] } }
    : { questionEnd: scan.questionEnd });
  if (optAt === undefined) return { wire: keptCopy(wire), ttlOffsets: scan.ttlOffsets.slice(), layout: records(scan.recordEnds) };
  if (wire[optAt] !== 0 || optAt + 11 > wire.length) return undefined;
  if (wire[optAt + 5] !== 0) return undefined;
  const end = optAt + 11 + ((wire[optAt + 9]! << 8) | wire[optAt + 10]!);
  const cut = end - optAt;
  const out = Buffer.allocUnsafeSlow(wire.length - cut); // kept: not a slice of Buffer's shared pool (keptCopy)
  out.set(wire.subarray(0, optAt), 0);
  out.set(wire.subarray(end), optAt);
  out.writeUInt16BE(out.readUInt16BE(10) - 1, 10);
  return { wire: out, ttlOffsets: scan.ttlOffsets.map((o) => (o > optAt ? o - cut : o)), layout: records(scan.recordEnds.map((e) => (e > optAt ? e - cut : e))) };
}
