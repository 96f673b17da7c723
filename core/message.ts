// DNS messages as plain data, and the only module that imports dns-packet (for full decodes).
// Names are stored without the trailing dot; the root is ''. Encoding lives in encode.ts.
import dnsPacket from 'dns-packet';
import { createRequire } from 'node:module';
import { scanMessage } from './wire.js';

// dns-packet's own type table (CJS, untyped): names it decodes to, such as LOC or NAPTR.
const packetTypes = createRequire(import.meta.url)('dns-packet/types.js') as { toString(code: number): string; toType(name: string): number };

export const Rcode = {
  NOERROR: 0,
  FORMERR: 1,
  SERVFAIL: 2,
  NXDOMAIN: 3,
  NOTIMP: 4,
  REFUSED: 5,
  YXDOMAIN: 6,
  NOTAUTH: 9,
  BADVERS: 16,
} as const;
export type RcodeValue = number;

const RCODE_NAMES = new Map<number, string>(Object.entries(Rcode).map(([k, v]) => [v, k]));
export function rcodeName(rcode: number): string {
  return RCODE_NAMES.get(rcode) ?? `RCODE${rcode}`;
}

/** Type names and codes nodens knows by name; others are written TYPEn (RFC 3597). */
const TYPE_CODES: Record<string, number> = {
  A: 1, NS: 2, CNAME: 5, SOA: 6, PTR: 12, HINFO: 13, MX: 15, TXT: 16, AAAA: 28, SRV: 33, NAPTR: 35,
  DNAME: 39, OPT: 41, DS: 43, SSHFP: 44, RRSIG: 46, NSEC: 47, DNSKEY: 48, NSEC3: 50, TLSA: 52,
  SVCB: 64, HTTPS: 65, IXFR: 251, AXFR: 252, ANY: 255, CAA: 257,
};
/** Names by code, an array indexed by code (every named code is below 512): no hash per query. */
const TYPE_NAMES: (string | undefined)[] = [];
for (const [name, code] of Object.entries(TYPE_CODES)) TYPE_NAMES[code] = name;

export function typeName(code: number): string {
  return TYPE_NAMES[code] ?? `TYPE${code}`;
}
export function typeCode(name: string): number {
  const code = TYPE_CODES[name];
  if (code !== undefined) return code;
  const m = /^(?:TYPE|UNKNOWN_)(\d+)$/.exec(name);
  if (m) return Number(m[1]);
  const fromPacket = packetTypes.toType(name);
  if (fromPacket > 0) return fromPacket;
  throw new Error(`unknown record type ${name}`);
}
export const CLASS_CODES: Record<string, number> = { IN: 1, CH: 3, HS: 4, NONE: 254, ANY: 255 };
const CLASS_NAMES: (string | undefined)[] = [];
for (const [name, code] of Object.entries(CLASS_CODES)) CLASS_NAMES[code] = name;
export function className(code: number): string {
  return CLASS_NAMES[code] ?? `CLASS${code}`;
}
/** A class name's code: IN, CH, CLASS3 (RFC 3597); 1 (IN) for anything else. */
export function classCode(name: string): number {
  const code = CLASS_CODES[name];
  if (code !== undefined) return code;
  const m = /^CLASS(\d{1,5})$/.exec(name);
  return m ? Number(m[1]) & 0xffff : 1;
}

export interface Question {
  readonly name: string;
  readonly type: string;
  readonly class: string;
}

interface RecordHeader {
  readonly name: string;
  readonly ttl: number;
  /** Defaults to IN. */
  readonly class?: string;
}
export interface ARecord extends RecordHeader { readonly type: 'A'; readonly data: string }
export interface AAAARecord extends RecordHeader { readonly type: 'AAAA'; readonly data: string }
export interface NameRecord extends RecordHeader { readonly type: 'CNAME' | 'NS' | 'PTR' | 'DNAME'; readonly data: string }
export interface SRVRecord extends RecordHeader {
  readonly type: 'SRV';
  readonly data: { readonly priority: number; readonly weight: number; readonly port: number; readonly target: string };
}
export interface MXRecord extends RecordHeader { readonly type: 'MX'; readonly data: { readonly preference: number; readonly exchange: string } }
export interface TXTRecord extends RecordHeader { readonly type: 'TXT'; readonly data: readonly string[] }
export interface SOAData {
  readonly mname: string;
  readonly rname: string;
  readonly serial: number;
  readonly refresh: number;
  readonly retry: number;
  readonly expire: number;
  readonly minimum: number;
}
export interface SOARecord extends RecordHeader { readonly type: 'SOA'; readonly data: SOAData }
export interface HINFORecord extends RecordHeader { readonly type: 'HINFO'; readonly data: { readonly cpu: string; readonly os: string } }
/** Any other type, kept as its raw RDATA (RFC 3597). `rrtype` is the type's name (`HTTPS`, `TYPE65`). */
export interface OpaqueRecord extends RecordHeader { readonly type: 'OPAQUE'; readonly rrtype: string; readonly data: Uint8Array }

export type ResourceRecord =
  | ARecord | AAAARecord | NameRecord | SRVRecord | MXRecord | TXTRecord | SOARecord | HINFORecord | OpaqueRecord;

/** The type name a record carries on the wire. */
export function recordType(rr: ResourceRecord): string {
  return rr.type === 'OPAQUE' ? rr.rrtype : rr.type;
}

export interface EdnsOption { readonly code: number; readonly data: Uint8Array }
export interface Edns {
  readonly udpSize: number;
  readonly do: boolean;
  readonly version: number;
  readonly extendedRcode?: number;
  readonly options?: readonly EdnsOption[];
}

export interface Message {
  readonly id: number;
  readonly qr: boolean;
  readonly opcode: number;
  readonly aa: boolean;
  readonly tc: boolean;
  readonly rd: boolean;
  readonly ra: boolean;
  readonly ad: boolean;
  readonly cd: boolean;
  /** The full rcode (the EDNS extended bits included). */
  readonly rcode: number;
  readonly question: readonly Question[];
  readonly answer: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  /** Without the OPT pseudo-record: EDNS is in `edns`. */
  readonly additional: readonly ResourceRecord[];
  readonly edns?: Edns;
}

/**
 * A reply already in wire form (a cache hit, an upstream's answer). The server patches ID, flags, the
 * question's case and the OPT record in these bytes in place: make a new WireReply for every reply.
 */
export class WireReply {
  readonly wire: Uint8Array;
  /** Set by a maker that knows the bytes (the cache): lets the server skip walking them. */
  readonly layout: WireLayout | undefined;
  /**
   * EDNS options our plugins add (EDE, NSID). Any OPT in the bytes is the upstream's and is replaced
   * by ours, which carries these. Add them with withEdnsOption().
   */
  readonly options: readonly EdnsOption[] | undefined;
  #decoded: Message | undefined;
  constructor(wire: Uint8Array, layout?: WireLayout, options?: readonly EdnsOption[]) {
    this.wire = wire;
    this.layout = layout;
    this.options = options;
  }
  get rcode(): number {
    return this.wire[3]! & 0x0f;
  }
  /**
   * The decoded message; decoded once, on first use. Its EDNS options are this reply's `options`
   * (those sent to the client), not the ones of an OPT in the bytes.
   */
  message(): Message {
    return (this.#decoded ??= withOptions(decodeMessage(this.wire), this.options));
  }
}

function withOptions(m: Message, options: readonly EdnsOption[] | undefined): Message {
  if (m.edns) return { ...m, edns: { ...m.edns, options: options ?? [] } };
  return options && options.length > 0 ? { ...m, edns: { udpSize: 1232, do: false, version: 0, options } } : m;
}

/** A WireLayout that knows where every record ends: what a fast answer must carry. */
export interface AnswerLayout extends WireLayout {
  readonly records: WireRecords;
}

/**
 * An answer a plugin keeps as bytes and hands out on the wire fast path (docs/fast-path.md), the same
 * bytes for every query that asks it: the server copies them into each reply and patches the copy
 * (ID, RD, CD, the question's case, EDNS, a cut to the client's size). They hold no OPT record, their
 * question is the one asked (in any case), and the plugin keeps them as they should be sent (TTLs, AA).
 * Make one with wireAnswer().
 */
export class WireAnswer {
  constructor(readonly wire: Buffer, readonly layout: AnswerLayout) {}
}

/** A promise about a wire reply's bytes: they hold no OPT record, and the question ends at `questionEnd`. */
export interface WireLayout {
  readonly questionEnd: number;
  /**
   * Where each record ends (answer, then authority, then additional) and how many the first two
   * sections hold: lets the server cut the bytes at a record to fit a client's limit without decoding
   * them (names only point backwards, so a prefix cut at a record is a valid message).
   */
  readonly records?: WireRecords;
}

export interface WireRecords {
  readonly ends: readonly number[];
  readonly answer: number;
  readonly authority: number;
}

/** What a handler returns: a message, or a reply in wire form. */
export type Reply = Message | WireReply;

export function isWireReply(reply: Reply): reply is WireReply {
  return reply instanceof WireReply;
}
/** The reply as a message, decoding a wire reply if needed. */
export function messageOf(reply: Reply): Message {
  return reply instanceof WireReply ? reply.message() : reply;
}

// ---- constructors that carry the protocol rules (miekg/dns style) ----

export function makeQuery(name: string, type = 'A', opts: { id?: number; rd?: boolean; cd?: boolean; edns?: Edns; class?: string } = {}): Message {
  return {
    id: opts.id ?? Math.floor(Math.random() * 65536),
    qr: false, opcode: 0, aa: false, tc: false, rd: opts.rd ?? true, ra: false, ad: false, cd: opts.cd ?? false,
    rcode: 0,
    question: [{ name: trimDot(name), type, class: opts.class ?? 'IN' }],
    answer: [], authority: [], additional: [],
    ...(opts.edns ? { edns: opts.edns } : {}),
  };
}

/** A reply to `query`: same ID, opcode, RD, CD and question; QR set. */
export function makeReply(
  query: Message,
  fields: Partial<Pick<Message, 'rcode' | 'aa' | 'tc' | 'ra' | 'ad' | 'answer' | 'authority' | 'additional'>> = {},
): Message {
  return {
    id: query.id, qr: true, opcode: query.opcode, aa: fields.aa ?? false, tc: fields.tc ?? false,
    rd: query.rd, ra: fields.ra ?? false, ad: fields.ad ?? false, cd: query.cd,
    rcode: fields.rcode ?? Rcode.NOERROR,
    question: query.question,
    answer: fields.answer ?? [], authority: fields.authority ?? [], additional: fields.additional ?? [],
  };
}

/** An error reply with `rcode` and no records. */
export function makeErrorReply(query: Message, rcode: number): Message {
  return makeReply(query, { rcode });
}

export function trimDot(name: string): string {
  return name.length > 1 && name.endsWith('.') ? name.slice(0, -1) : name === '.' ? '' : name;
}
/** `name.` — the fully qualified text form used in logs and zone files. */
export function fqdn(name: string): string {
  return name === '' ? '.' : `${name}.`;
}

// ---- decoding ----

export class WireError extends Error {
  readonly code = 'ERR_DNS_WIRE';
}

// A throwing decode costs ~10x a clean one; stack traces are most of that and tell nothing here.
function quietly<T>(fn: () => T): T {
  const limit = Error.stackTraceLimit;
  Error.stackTraceLimit = 0;
  try {
    return fn();
  } finally {
    Error.stackTraceLimit = limit;
  }
}

type PacketAnswer = dnsPacket.Answer & { data?: unknown; udpPayloadSize?: number; extendedRcode?: number; ednsVersion?: number; flags?: number; options?: { code: number; data?: Buffer }[] };

/** Decodes a whole message; throws WireError on malformed input. */
export function decodeMessage(wire: Uint8Array): Message {
  if (wire.length < 12) throw new WireError('header must be 12 bytes');
  const buf = Buffer.isBuffer(wire) ? wire : Buffer.from(wire.buffer, wire.byteOffset, wire.byteLength);
  let packet: dnsPacket.Packet;
  try {
    // Walk the records first: dns-packet spends milliseconds on a header that claims 65,535 records.
    packet = quietly(() => {
      scanMessage(buf);
      return dnsPacket.decode(buf);
    });
  } catch (err) {
    throw quietly(() => new WireError(`malformed message: ${(err as Error).message}`));
  }
  const flags = buf.readUInt16BE(2);
  let edns: Edns | undefined;
  const additional: ResourceRecord[] = [];
  for (const rr of (packet.additionals ?? []) as PacketAnswer[]) {
    if (rr.type === 'OPT') {
      edns = {
        udpSize: rr.udpPayloadSize ?? 512,
        do: ((rr.flags ?? 0) & 0x8000) !== 0,
        version: rr.ednsVersion ?? 0,
        extendedRcode: rr.extendedRcode ?? 0,
        options: (rr.options ?? []).map((o) => ({ code: o.code, data: o.data ?? new Uint8Array(0) })),
      };
    } else {
      additional.push(fromPacketRecord(rr));
    }
  }
  return {
    id: packet.id ?? 0,
    qr: (flags & 0x8000) !== 0,
    opcode: (flags >> 11) & 0xf,
    aa: (flags & 0x0400) !== 0,
    tc: (flags & 0x0200) !== 0,
    rd: (flags & 0x0100) !== 0,
    ra: (flags & 0x0080) !== 0,
    ad: (flags & 0x0020) !== 0,
    cd: (flags & 0x0010) !== 0,
    rcode: (flags & 0xf) | ((edns?.extendedRcode ?? 0) << 4),
    question: (packet.questions ?? []).map((q) => ({ name: q.name, type: normaliseTypeName(q.type), class: q.class ?? 'IN' })),
    answer: ((packet.answers ?? []) as PacketAnswer[]).map(fromPacketRecord),
    authority: ((packet.authorities ?? []) as PacketAnswer[]).map(fromPacketRecord),
    additional,
    ...(edns ? { edns } : {}),
  };
}

function normaliseTypeName(type: string): string {
  const m = /^UNKNOWN_(\d+)$/.exec(type);
  return m ? typeName(Number(m[1])) : type;
}

function fromPacketRecord(rr: PacketAnswer): ResourceRecord {
  const header = { name: rr.name, ttl: (rr as { ttl?: number }).ttl ?? 0, class: (rr as { class?: string }).class ?? 'IN' };
  const data = rr.data as never;
  switch (rr.type) {
    case 'A': case 'AAAA': case 'CNAME': case 'NS': case 'PTR': case 'DNAME': case 'SRV': case 'MX': case 'SOA': case 'HINFO':
      return { ...header, type: rr.type, data } as ResourceRecord;
    case 'TXT':
      return { ...header, type: 'TXT', data: (rr.data as Buffer[]).map((b) => Buffer.from(b).toString('utf8')) };
    default: {
      // Keep the raw RDATA: re-encode with dns-packet's own encoder for that type, minus the length prefix.
      const rrtype = normaliseTypeName(rr.type);
      let raw: Uint8Array;
      try {
        const encoded = (dnsPacket as unknown as { answer: { encode(a: dnsPacket.Answer): Buffer } }).answer.encode(rr as dnsPacket.Answer);
        const nameLen = encodedNameLength(encoded);
        raw = encoded.subarray(nameLen + 10);
      } catch {
        raw = new Uint8Array(0);
      }
      return { ...header, type: 'OPAQUE', rrtype, data: raw };
    }
  }
}

function encodedNameLength(buf: Uint8Array): number {
  let i = 0;
  while (buf[i] !== 0) i += buf[i]! + 1;
  return i + 1;
}
