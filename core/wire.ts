// Raw wire work on the hot path: a name-compressing encoder (dns-packet does not compress, its #55),
// a fast query parser for the common one-question case, and a scanner that finds TTLs without decoding.
import { classCode, className, typeCode, typeName, WireAnswer, type Edns, type EdnsOption, type Message, type ResourceRecord } from './message.js';
import { ipv6ToBytes, writeIPv4 } from './ip.js';

const MAX_POINTER = 0x3fff;

class Writer {
  buf: Buffer;
  pos = 0;
  // Names written so far (lower-cased suffixes) and their offsets, for compression pointers. A message
  // holds few names, so two arrays searched linearly beat a Map (and its allocation) here.
  readonly nameKeys: string[] = [];
  readonly nameOffsets: number[] = [];
  constructor(size: number) {
    this.buf = Buffer.allocUnsafe(size);
  }
  ensure(n: number): void {
    if (this.pos + n <= this.buf.length) return;
    const next = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.pos + n));
    this.buf.copy(next, 0, 0, this.pos);
    this.buf = next;
  }
  /** Forgets names written at or after `offset` (a dropped record must not be pointed at). */
  forgetFrom(offset: number): void {
    let n = this.nameOffsets.length;
    while (n > 0 && this.nameOffsets[n - 1]! >= offset) n--;
    this.nameKeys.length = n;
    this.nameOffsets.length = n;
  }
  u8(v: number): void {
    this.ensure(1);
    this.buf[this.pos++] = v;
  }
  u16(v: number): void {
    this.ensure(2);
    this.buf[this.pos++] = (v >> 8) & 0xff;
    this.buf[this.pos++] = v & 0xff;
  }
  u32(v: number): void {
    this.ensure(4);
    this.buf.writeUInt32BE(v >>> 0, this.pos);
    this.pos += 4;
  }
  bytes(b: Uint8Array): void {
    this.ensure(b.length);
    this.buf.set(b, this.pos);
    this.pos += b.length;
  }
  charString(s: string | Uint8Array): void {
    const b = typeof s === 'string' ? Buffer.from(s, 'utf8') : s;
    if (b.length > 255) throw new Error('character-string longer than 255 bytes');
    this.u8(b.length);
    this.bytes(b);
  }
  #find(key: string): number {
    const keys = this.nameKeys;
    for (let i = 0; i < keys.length; i++) if (keys[i] === key) return this.nameOffsets[i]!;
    return -1;
  }
  /** Writes a domain name, pointing at an earlier copy of any suffix when `compress` is set. */
  name(name: string, compress: boolean): void {
    if (name.endsWith('.')) name = name.slice(0, -1);
    if (name === '') {
      this.u8(0);
      return;
    }
    // Lower-case once; each suffix is then a slice of it (cheap in V8) rather than a new lower-cased copy.
    const lower = name.toLowerCase();
    let at = 0;
    for (;;) {
      const key = at === 0 ? lower : lower.slice(at);
      const seen = this.#find(key);
      if (compress && seen >= 0) {
        this.u16(0xc000 | seen);
        return;
      }
      if (seen < 0 && this.pos <= MAX_POINTER) {
        this.nameKeys.push(key);
        this.nameOffsets.push(this.pos);
      }
      const dot = name.indexOf('.', at);
      this.#label(dot < 0 ? name.slice(at) : name.slice(at, dot), name);
      if (dot < 0) break;
      at = dot + 1;
    }
    this.u8(0);
  }
  #label(label: string, name: string): void {
    const n = label.length;
    this.ensure(n * 3 + 1);
    // ASCII (nearly every label): copy the char codes; anything else goes through the UTF-8 encoder.
    let ascii = n > 0 && n <= 63;
    for (let i = 0; ascii && i < n; i++) if (label.charCodeAt(i) > 127) ascii = false;
    if (ascii) {
      this.buf[this.pos++] = n;
      for (let i = 0; i < n; i++) this.buf[this.pos++] = label.charCodeAt(i);
      return;
    }
    const len = Buffer.byteLength(label, 'utf8');
    if (len === 0 || len > 63) throw new Error(`bad label in ${name}`);
    this.buf[this.pos++] = len;
    this.pos += this.buf.write(label, this.pos, 'utf8');
  }
}

/** The query a reply answers: its ID, opcode, RD, CD and question are written instead of the reply's. */
export interface ReplyHeader {
  readonly query: Message;
  /** The OPT to send (ours), or none. */
  readonly edns: Edns | undefined;
}

export interface EncodeOptions {
  /** Encode as the reply to this query (the server's finishing step, without copying the message). */
  replyTo?: ReplyHeader;
  /** Size limit (a UDP client's buffer, 65535 over TCP): records that do not fit are dropped and TC set. */
  maxSize?: number;
  /** Collect the offsets of every record's TTL field (for the cache's wire patching). */
  ttlOffsets?: number[];
  /** Collect the offset just past every record written (for a WireLayout's `records`). */
  recordEnds?: number[];
}

function flagsOf(m: Message, tc: boolean, q: Message | undefined): number {
  const head = q ? 0x8000 | ((q.opcode & 0xf) << 11) | (q.rd ? 0x0100 : 0) | (q.cd ? 0x0010 : 0)
    : (m.qr ? 0x8000 : 0) | ((m.opcode & 0xf) << 11) | (m.rd ? 0x0100 : 0) | (m.cd ? 0x0010 : 0);
  return head | (m.aa ? 0x0400 : 0) | (tc ? 0x0200 : 0) | (m.ra ? 0x0080 : 0) | (m.ad ? 0x0020 : 0) | (m.rcode & 0xf);
}

/** Encodes a message with name compression (RFC 1035 4.1.4). */
export function encodeMessage(m: Message, opts: EncodeOptions = {}): Buffer {
  const w = new Writer(512);
  const query = opts.replyTo?.query;
  const edns = opts.replyTo ? opts.replyTo.edns : m.edns;
  const question = query ? query.question : m.question;
  const optSize = edns ? 11 + (edns.options ?? []).reduce((n, o) => n + 4 + o.data.length, 0) : 0;
  const limit = opts.maxSize !== undefined ? opts.maxSize - optSize : Infinity;
  w.u16(query ? query.id : m.id);
  w.u16(0); // flags patched below, once truncation is known
  w.u16(question.length);
  w.u16(0); w.u16(0); w.u16(0); // counts patched below
  for (const q of question) {
    w.name(q.name, true);
    w.u16(typeCode(q.type));
    w.u16(classCode(q.class));
  }
  const sections = [m.answer, m.authority, m.additional];
  const counts = [0, 0, 0];
  let truncated = false;
  outer: for (let s = 0; s < 3; s++) {
    for (const rr of sections[s]!) {
      const start = w.pos;
      const ttlAt = writeRecord(w, rr);
      if (w.pos > limit) {
        w.pos = start;
        w.forgetFrom(start); // names inside the dropped record must not be pointed at
        truncated = true; // any record left out sets TC, glue included, as miekg/dns's Truncate does (so CoreDNS)
        break outer;
      }
      opts.ttlOffsets?.push(ttlAt);
      opts.recordEnds?.push(w.pos);
      counts[s]!++;
    }
  }
  let arcount = counts[2]!;
  if (edns) {
    writeOpt(w, edns, m.rcode);
    arcount++;
  }
  w.buf.writeUInt16BE(flagsOf(m, m.tc || truncated, query), 2);
  w.buf.writeUInt16BE(counts[0]!, 6);
  w.buf.writeUInt16BE(counts[1]!, 8);
  w.buf.writeUInt16BE(arcount, 10);
  return w.buf.subarray(0, w.pos);
}

function writeOpt(w: Writer, edns: Edns, rcode: number): void {
  w.u8(0);
  w.u16(41);
  w.u16(Math.max(512, edns.udpSize));
  w.u8((rcode >> 4) & 0xff);
  w.u8(edns.version);
  w.u16(edns.do ? 0x8000 : 0);
  const options = edns.options ?? [];
  w.u16(options.reduce((n, o) => n + 4 + o.data.length, 0));
  for (const o of options) {
    w.u16(o.code);
    w.u16(o.data.length);
    w.bytes(o.data);
  }
}

/** Writes one record; returns the offset of its TTL field. */
function writeRecord(w: Writer, rr: ResourceRecord): number {
  w.name(rr.name, true);
  w.u16(rr.type === 'OPAQUE' ? typeCode(rr.rrtype) : typeCode(rr.type));
  w.u16(rr.class === undefined ? 1 : classCode(rr.class));
  const ttlAt = w.pos;
  w.u32(rr.ttl);
  w.u16(0);
  const rdStart = w.pos;
  switch (rr.type) {
    case 'A':
      w.ensure(4);
      writeIPv4(rr.data, w.buf, w.pos);
      w.pos += 4;
      break;
    case 'AAAA':
      w.bytes(ipv6ToBytes(rr.data));
      break;
    case 'CNAME': case 'NS': case 'PTR':
      w.name(rr.data, true);
      break;
    case 'DNAME':
      w.name(rr.data, false);
      break;
    case 'SRV':
      w.u16(rr.data.priority); w.u16(rr.data.weight); w.u16(rr.data.port);
      w.name(rr.data.target, false); // RFC 2782: no compression of the target
      break;
    case 'MX':
      w.u16(rr.data.preference);
      w.name(rr.data.exchange, true);
      break;
    case 'TXT':
      for (const s of rr.data) {
        // Strings over 255 bytes are split, as a zone file would have to write them.
        const b = Buffer.from(s, 'utf8');
        if (b.length === 0) w.u8(0);
        for (let i = 0; i < b.length; i += 255) w.charString(b.subarray(i, i + 255));
      }
      break;
    case 'SOA':
      w.name(rr.data.mname, true);
      w.name(rr.data.rname, true);
      w.u32(rr.data.serial); w.u32(rr.data.refresh); w.u32(rr.data.retry); w.u32(rr.data.expire); w.u32(rr.data.minimum);
      break;
    case 'HINFO':
      w.charString(rr.data.cpu);
      w.charString(rr.data.os);
      break;
    case 'OPAQUE':
      w.bytes(rr.data);
      break;
  }
  w.buf.writeUInt16BE(w.pos - rdStart, rdStart - 2);
  return ttlAt;
}

/**
 * A copy of bytes kept past their query, in an allocation of their own. Buffer's small allocations are
 * slices of a shared 8 KB pool, and a kept slice pins its whole slab: a cache entry or a kept answer
 * made among the queries' short-lived buffers would hold up to 8 KB for its ~100 bytes.
 */
export function keptCopy(bytes: Uint8Array): Buffer {
  const out = Buffer.allocUnsafeSlow(bytes.length);
  out.set(bytes);
  return out;
}

/**
 * A reply kept as a WireAnswer for the fast path (docs/fast-path.md): encoded once, as the server would
 * encode it, without its EDNS (the server adds its own per reply).
 */
export function wireAnswer(reply: Message): WireAnswer {
  const { edns: _hopByHop, ...message } = reply;
  const ends: number[] = [];
  const wire = encodeMessage(message, { recordEnds: ends });
  return new WireAnswer(keptCopy(wire), { questionEnd: questionEnd(wire), records: { ends, answer: reply.answer.length, authority: reply.authority.length } });
}

/** Offset just past the question of a one-question message we built (its name written whole, no pointer). */
export function questionEnd(wire: Uint8Array): number {
  let pos = 12;
  while (wire[pos] !== 0) pos += wire[pos]! + 1;
  return pos + 5;
}

// ---- the fast query parser ----

/** What the server needs of a query, read without a full decode. */
export interface ParsedQuery {
  readonly id: number;
  readonly flags: number;
  readonly opcode: number;
  /** As sent (case kept), without the trailing dot. */
  readonly qname: string;
  /** Lower-cased: the same string as qname when it has no upper-case letter (the usual query). */
  readonly lower: string;
  readonly qtype: number;
  readonly qclass: number;
  /** Offset just past the question. */
  readonly questionEnd: number;
  readonly edns: Edns | undefined;
}

export const enum HeaderCheck { Ok, Drop, FormErr, NotImp }

/** Cheap checks before any decode: too short to answer, not a query, not exactly one question. */
export function checkHeader(wire: Uint8Array): HeaderCheck {
  if (wire.length < 12) return HeaderCheck.Drop;
  if (wire[2]! & 0x80) return HeaderCheck.Drop; // a response: never answer it (reflection loops)
  if (((wire[2]! >> 3) & 0xf) !== 0) return HeaderCheck.NotImp;
  if (wire[4] !== 0 || wire[5] !== 1) return HeaderCheck.FormErr;
  return HeaderCheck.Ok;
}

/** parseQuery's name bytes: 253 at most (longer names take the full decoder). */
const NAME_SCRATCH = Buffer.allocUnsafe(256);

/**
 * Parses the header, the one question and an OPT record. Returns undefined when the message has
 * anything else (answers, several additionals) or is malformed, so the caller falls back to a full decode.
 */
export function parseQuery(wire: Buffer): ParsedQuery | undefined {
  const buf = wire;
  const len = buf.length;
  if (len < 17) return undefined;
  const an = (buf[6]! << 8) | buf[7]!;
  const ns = (buf[8]! << 8) | buf[9]!;
  const ar = (buf[10]! << 8) | buf[11]!;
  if (an !== 0 || ns !== 0 || ar > 1) return undefined;
  // One pass over the labels into a scratch buffer, dots in place of the length bytes, then one latin1
  // decode: a flat string (what Map lookups hash) instead of a concatenation of per-label strings.
  let pos = 12;
  let n = 0;
  let upper = false;
  for (;;) {
    if (pos >= len) return undefined;
    const l = buf[pos]!;
    if (l === 0) { pos++; break; }
    if (l > 63 || pos + 1 + l > len || n + (n === 0 ? 0 : 1) + l > 253) return undefined;
    if (n !== 0) NAME_SCRATCH[n++] = 46;
    for (let i = pos + 1; i <= pos + l; i++) {
      const c = buf[i]!;
      // Only plain printable bytes on the fast path; anything needing escapes is decoded fully.
      if (c <= 32 || c >= 127 || c === 46 || c === 92) return undefined;
      if (c >= 65 && c <= 90) upper = true;
      NAME_SCRATCH[n++] = c;
    }
    pos += 1 + l;
  }
  const qname = NAME_SCRATCH.toString('latin1', 0, n);
  let lower = qname;
  if (upper) {
    for (let i = 0; i < n; i++) {
      const c = NAME_SCRATCH[i]!;
      if (c >= 65 && c <= 90) NAME_SCRATCH[i] = c | 0x20;
    }
    lower = NAME_SCRATCH.toString('latin1', 0, n);
  }
  if (pos + 4 > len) return undefined;
  const qtype = (buf[pos]! << 8) | buf[pos + 1]!;
  const qclass = (buf[pos + 2]! << 8) | buf[pos + 3]!;
  pos += 4;
  const questionEnd = pos;
  let edns: Edns | undefined;
  if (ar === 1) {
    // Root name, type OPT, then class = UDP size, TTL = ext-rcode/version/flags, RDLENGTH.
    if (pos + 11 > len || buf[pos] !== 0 || buf[pos + 1] !== 0 || buf[pos + 2] !== 41) return undefined;
    const rdlen = (buf[pos + 9]! << 8) | buf[pos + 10]!;
    if (pos + 11 + rdlen !== len) return undefined;
    const udpSize = (buf[pos + 3]! << 8) | buf[pos + 4]!;
    const version = buf[pos + 6]!;
    const dnssecOk = (buf[pos + 7]! & 0x80) !== 0;
    if (rdlen === 0) {
      edns = { udpSize, version, do: dnssecOk };
    } else {
      const options = parseOptions(buf, pos + 11, pos + 11 + rdlen);
      if (options === null) return undefined;
      edns = { udpSize, version, do: dnssecOk, options };
    }
    pos += 11 + rdlen;
  }
  if (pos !== len) return undefined;
  return {
    id: (buf[0]! << 8) | buf[1]!,
    flags: (buf[2]! << 8) | buf[3]!,
    opcode: (buf[2]! >> 3) & 0xf,
    qname,
    lower,
    qtype,
    qclass,
    questionEnd,
    edns,
  };
}

/** An OPT record's options (RFC 6891 6.1.2), as views of `buf`; null when they do not fill the RDATA exactly. */
function parseOptions(buf: Buffer, pos: number, end: number): EdnsOption[] | null {
  const options: EdnsOption[] = [];
  while (pos < end) {
    if (pos + 4 > end) return null;
    const code = (buf[pos]! << 8) | buf[pos + 1]!;
    const len = (buf[pos + 2]! << 8) | buf[pos + 3]!;
    pos += 4;
    if (pos + len > end) return null;
    options.push({ code, data: buf.subarray(pos, pos + len) });
    pos += len;
  }
  return options;
}

/** The query as a Message, built from a parsed query without a second pass over the bytes. */
export function messageFromParsed(p: ParsedQuery): Message {
  return {
    id: p.id, qr: false, opcode: p.opcode, aa: false, tc: (p.flags & 0x0200) !== 0, rd: (p.flags & 0x0100) !== 0,
    ra: false, ad: (p.flags & 0x0020) !== 0, cd: (p.flags & 0x0010) !== 0, rcode: 0,
    question: [{ name: p.qname, type: typeName(p.qtype), class: className(p.qclass) }],
    answer: [], authority: [], additional: [],
    ...(p.edns ? { edns: p.edns } : {}),
  };
}

// ---- scanning a wire message ----

export interface WireScan {
  readonly rcode: number;
  readonly flags: number;
  readonly counts: readonly [number, number, number, number];
  /** Offsets of every TTL field (OPT excluded), in order. */
  readonly ttlOffsets: number[];
  readonly minTtl: number;
  /** The SOA in the authority section: its TTL and MINIMUM, for negative caching (RFC 2308). */
  readonly soa?: { ttl: number; minimum: number };
  /** Types of the answer section's records. */
  readonly answerTypes: number[];
  /** Offset just past the question section. */
  readonly questionEnd: number;
  /** Offset just past every record but the OPT, in order (a WireLayout's `records`). */
  readonly recordEnds: number[];
  /** The section (1 answer, 2 authority, 3 additional) the OPT was found in. */
  readonly optSection?: number;
  /** Offset of the OPT record, if any. */
  readonly optAt?: number;
}

function skipName(buf: Uint8Array, pos: number): number {
  for (let guard = 0; guard < 128; guard++) {
    if (pos >= buf.length) throw new RangeError('name runs past the message');
    const l = buf[pos]!;
    if (l === 0) return pos + 1;
    if ((l & 0xc0) === 0xc0) return pos + 2;
    if (l & 0xc0) throw new RangeError('bad label type');
    pos += 1 + l;
  }
  throw new RangeError('name too long');
}

/** Walks a wire message's records; throws RangeError when malformed. */
export function scanMessage(buf: Uint8Array): WireScan {
  if (buf.length < 12) throw new RangeError('short header');
  const view = Buffer.from(buf.buffer, buf.byteOffset, buf.byteLength);
  const counts: [number, number, number, number] = [view.readUInt16BE(4), view.readUInt16BE(6), view.readUInt16BE(8), view.readUInt16BE(10)];
  let pos = 12;
  for (let i = 0; i < counts[0]; i++) pos = skipName(buf, pos) + 4;
  const questionEnd = pos;
  const ttlOffsets: number[] = [];
  const answerTypes: number[] = [];
  let minTtl = Infinity;
  let soa: { ttl: number; minimum: number } | undefined;
  let optAt: number | undefined;
  let optSection: number | undefined;
  const recordEnds: number[] = [];
  for (let s = 1; s < 4; s++) {
    for (let i = 0; i < counts[s]!; i++) {
      const start = pos;
      pos = skipName(buf, pos);
      if (pos + 10 > buf.length) throw new RangeError('record runs past the message');
      const type = view.readUInt16BE(pos);
      const ttl = view.readUInt32BE(pos + 4);
      const rdlen = view.readUInt16BE(pos + 8);
      const rdata = pos + 10;
      if (rdata + rdlen > buf.length) throw new RangeError('rdata runs past the message');
      if (type === 41) {
        optAt = start;
        optSection = s;
      } else {
        recordEnds.push(rdata + rdlen);
        ttlOffsets.push(pos + 4);
        if (ttl < minTtl) minTtl = ttl;
        if (s === 1) answerTypes.push(type);
        if (s === 2 && type === 6) {
          const end = skipName(buf, skipName(buf, rdata));
          if (end + 20 <= rdata + rdlen) soa = { ttl, minimum: view.readUInt32BE(end + 16) };
        }
      }
      pos = rdata + rdlen;
    }
  }
  return {
    rcode: buf[3]! & 0xf, flags: view.readUInt16BE(2), counts, ttlOffsets,
    minTtl: minTtl === Infinity ? 0 : minTtl, answerTypes, questionEnd, recordEnds,
    ...(soa ? { soa } : {}), ...(optAt !== undefined ? { optAt, optSection } : {}),
  };
}
