// CoreDNS's round-robin on a reply still in wire form, for the big ones (a headless Service's 1,000
// addresses, SRV glue): decoding and encoding them again per query would cost milliseconds. Only the
// plain case is done here, else undefined (the caller decodes): the records to move are the last
// section's, all A or AAAA, and no name in that section points into it (nothing after it can), so
// moving them whole keeps every compression pointer valid; no other section has anything the shuffle would move
// (no address, MX or CNAME, which it puts first).
import { WireAnswer, WireReply, type WireLayout } from '../../core/message.js';
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

/** What a shuffle moves: the records of the last section (`first` onwards), in their new order. */
interface Plan {
  readonly first: number;
  readonly order: number[];
  readonly startOf: (i: number) => number;
  readonly ends: readonly number[];
}

/** The plain case checked (see the top of this file), the last section's records shuffled; else undefined. */
function plan(wire: Uint8Array, layout: WireLayout, random: Random): Plan | undefined {
  const records = layout.records;
  if (!records) return undefined;
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
  return { first, order, startOf, ends };
}

/** Writes the planned records from `from` into `to` (from the section's start), returning the new record ends. */
function move(p: Plan, from: Uint8Array, fromBase: number, to: Uint8Array): number[] {
  let pos = p.startOf(p.first);
  const newEnds = p.ends.slice(0, p.first);
  for (const i of p.order) {
    to.set(from.subarray(p.startOf(i) - fromBase, p.ends[i]! - fromBase), pos);
    pos += p.ends[i]! - p.startOf(i);
    newEnds.push(pos);
  }
  return newEnds;
}

export function shuffleWire(reply: WireReply, random: Random): WireReply | undefined {
  const layout = reply.layout;
  const p = layout && plan(reply.wire, layout, random);
  if (!layout || !p) return undefined;
  const wire = reply.wire;
  const out = Buffer.allocUnsafe(wire.length);
  out.set(wire.subarray(0, p.startOf(p.first)), 0);
  const ends = move(p, wire, 0, out);
  return new WireReply(out, { questionEnd: layout.questionEnd, records: { ...layout.records!, ends } }, reply.options);
}

/**
 * shuffleWire on the fast path's own copy of an answer: the records are permuted within its bytes.
 * When they are all one length (A records of one owner, as a headless Service's) the record ends do
 * not move and the answer's layout stands; else a new layout over the same bytes. Undefined when the
 * bytes are not the plain case.
 */
export function shuffleWireInPlace(reply: WireAnswer, random: Random): WireAnswer | undefined {
  const p = plan(reply.wire, reply.layout, random);
  if (!p) return undefined;
  const start = p.startOf(p.first);
  const section = Buffer.from(reply.wire.subarray(start, p.ends[p.ends.length - 1]));
  const ends = move(p, section, start, reply.wire);
  const sameEnds = ends.every((e, i) => e === p.ends[i]);
  return sameEnds ? reply : new WireAnswer(reply.wire, { questionEnd: reply.layout.questionEnd, records: { ...reply.layout.records, ends } });
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
