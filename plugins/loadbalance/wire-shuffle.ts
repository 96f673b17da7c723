// CoreDNS's round-robin on a reply still in wire form, for the big ones (a headless Service's 1,000
// addresses, SRV glue): decoding and encoding them again per query would cost milliseconds. Only the
// plain case is done here, else undefined (the caller decodes): the records to move are the last
// section's, all A or AAAA, and no name in that section points into it (nothing after it can), so
// moving them whole keeps every compression pointer valid; no other section has anything the shuffle would move
// (no address, MX or CNAME, which it puts first).
import { WireReply, type WireLayout } from '../../core/message.js';
import type { Random } from './shuffle.js';

const A = 1;
const AAAA = 28;
const MX = 15;
const CNAME = 5;

/** Where the type of the record starting at `pos` is (past its owner name); -1 if malformed. */
function typeAt(wire: Uint8Array, pos: number): number {
  for (let guard = 0; pos < wire.length && guard < 128; guard++) {
    const len = wire[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return pos + 2;
    pos += len + 1;
  }
  return -1;
}

/** The end of the owner name at `pos`; -1 if malformed or if it points at or past `floor`. */
function ownerEnd(wire: Uint8Array, pos: number, floor: number): number {
  for (let guard = 0; pos < wire.length && guard < 128; guard++) {
    const len = wire[pos]!;
    if (len === 0) return pos + 1;
    if ((len & 0xc0) === 0xc0) return (((len & 0x3f) << 8) | wire[pos + 1]!) < floor ? pos + 2 : -1;
    if (len > 63) return -1;
    pos += len + 1;
  }
  return -1;
}

export function shuffleWire(reply: WireReply, random: Random): WireReply | undefined {
  const layout = reply.layout;
  const records = layout?.records;
  if (!layout || !records) return undefined;
  const wire = reply.wire;
  const { ends } = records;
  const total = ends.length;
  if (total !== records.answer + records.authority + ((wire[10]! << 8) | wire[11]!)) return undefined;
  const sizes = [records.answer, records.authority, total - records.answer - records.authority];
  let last = 2;
  while (last >= 0 && sizes[last] === 0) last--;
  if (last < 0) return undefined;
  const first = sizes.slice(0, last).reduce((a, b) => a + b, 0);
  const startOf = (i: number) => (i === 0 ? layout.questionEnd : ends[i - 1]!);
  // The sections before the last: nothing the shuffle would move.
  for (let i = 0; i < first; i++) {
    const t = typeAt(wire, startOf(i));
    if (t < 0 || t + 2 > wire.length) return undefined;
    const type = (wire[t]! << 8) | wire[t + 1]!;
    if (type === A || type === AAAA || type === MX || type === CNAME) return undefined;
  }
  // The last: addresses only (4 or 16 bytes of rdata, no names), and no name in it pointing into it.
  const sectionStart = startOf(first);
  const order: number[] = [];
  for (let i = first; i < total; i++) {
    const t = ownerEnd(wire, startOf(i), sectionStart);
    if (t < 0 || t + 10 > wire.length) return undefined;
    const type = (wire[t]! << 8) | wire[t + 1]!;
    const rdlen = (wire[t + 8]! << 8) | wire[t + 9]!;
    if (!((type === A && rdlen === 4) || (type === AAAA && rdlen === 16)) || t + 10 + rdlen !== ends[i]) return undefined;
    order.push(i);
  }
  if (order.length < 2) return undefined;
  shuffle(order, random);
  const out = Buffer.allocUnsafe(wire.length);
  out.set(wire.subarray(0, startOf(first)), 0);
  let pos = startOf(first);
  const newEnds = ends.slice(0, first);
  for (const i of order) {
    out.set(wire.subarray(startOf(i), ends[i]!), pos);
    pos += ends[i]! - startOf(i);
    newEnds.push(pos);
  }
  const newLayout: WireLayout = { questionEnd: layout.questionEnd, records: { ...records, ends: newEnds } };
  return new WireReply(out, newLayout, reply.options);
}

/** shuffle.ts's shuffle, on indices: the same draws give the same order. */
function shuffle(items: number[], random: Random): void {
  const l = items.length;
  if (l === 2) {
    if (random() % 2 === 0) [items[0], items[1]] = [items[1]!, items[0]!];
    return;
  }
  for (let j = 0; j < l; j++) {
    const p = j + (random() % (l - j));
    if (p !== j) [items[j], items[p]] = [items[p]!, items[j]!];
  }
}
