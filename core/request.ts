// The per-query Request: a read-only view of the query plus the lazily made deadline signal, metadata
// and done hooks; and the requests derived from it by next(changes).
import { CLASS_CODES, className, Rcode, trimDot, typeCode, typeName, type Edns, type EdnsOption, type Message } from './message.js';
import { RequestMetadata } from './metadata.js';
import { messageFromParsed, type ParsedQuery } from './wire.js';
// Imported, not the global: globalThis.performance is a lazy accessor, a getter call on every read.
import { performance } from 'node:perf_hooks';
import { DnsError, type Done, type LocalPeer, type Metadata, type Peer, type Request, type RequestChanges, type Transport } from './plugin.js';

export interface RequestInit {
  /** The query, or the fast parser's result to build it from on first read (most queries never read it). */
  query: Message | ParsedQuery;
  qname: string;
  qtype: string;
  qclass: string;
  client: Peer & { transport: Transport; family: 4 | 6 };
  local: LocalPeer;
  size: number;
  /** When the query arrived (performance.now()); undefined: when first asked (see startClock). */
  start: number | undefined;
}

/** Where requests register the abort controllers they make, so shutdown can abort them. */
export interface SignalOwner {
  readonly deadlineMs: number;
  track(controller: AbortController): void;
  untrack(controller: AbortController): void;
}

function isParsed(query: Message | ParsedQuery): query is ParsedQuery {
  return (query as Partial<ParsedQuery>).questionEnd !== undefined;
}

const NO_OPTIONS: readonly EdnsOption[] = Object.freeze([]);

export class QueryRequest implements Request {
  readonly qname: string;
  readonly qtype: string;
  readonly qclass: string;
  readonly do: boolean;
  readonly cd: boolean;
  readonly udpSize: number;
  readonly edns: boolean;
  readonly client: Peer & { transport: Transport; family: 4 | 6 };
  readonly local: LocalPeer;
  readonly size: number;
  zone = '';
  /** The block's chain has a plugin that logs this query's error (errors): the server then does not. */
  errorsLogged = false;
  /** The plugin that produced the reply (set by the chain). */
  producer: string | undefined;
  /** A smaller UDP answer limit asked for by a derived request (bufsize). */
  replyUdpSize: number | undefined;
  #server: string | undefined;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listeners: ((done: Done) => void)[] | undefined;
  #metadata: RequestMetadata | undefined;
  #query: Message | ParsedQuery;
  #start: number | undefined;

  constructor(init: RequestInit, private readonly owner: SignalOwner) {
    const query = init.query;
    this.#query = query;
    this.qname = init.qname;
    this.qtype = init.qtype;
    this.qclass = init.qclass;
    const edns = query.edns;
    this.do = edns?.do ?? false;
    this.cd = isParsed(query) ? (query.flags & 0x0010) !== 0 : query.cd;
    this.udpSize = edns ? Math.max(512, edns.udpSize) : 512;
    this.edns = edns !== undefined;
    this.client = init.client;
    this.local = init.local;
    this.size = init.size;
    this.#start = init.start;
  }

  get query(): Message {
    const q = this.#query;
    return isParsed(q) ? (this.#query = messageFromParsed(q)) : q;
  }

  /** When the query arrived, or when first asked for a request made without a clock reading. */
  get start(): number {
    return (this.#start ??= performance.now());
  }

  /**
   * Reads the clock now unless the request has a reading. The fast path reads it only when a hook
   * reports the time (prometheus); a query it passes on to the ordinary path is timed from here.
   */
  startClock(): void {
    this.#start ??= performance.now();
  }

  get ednsOptions(): readonly EdnsOption[] {
    return this.query.edns?.options ?? NO_OPTIONS;
  }

  get original(): Request {
    return this;
  }

  // Made on first use: most queries never publish or read metadata.
  get metadata(): Metadata {
    return (this.#metadata ??= new RequestMetadata());
  }

  /** CoreDNS's metrics label for the listener; made only when a plugin (prometheus, cache) asks. */
  get server(): string {
    return (this.#server ??= serverLabel(this.local));
  }

  // Most queries never look at their signal (a cache or hosts hit): make it only when asked.
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      this.owner.track(controller);
      this.#timer = setTimeout(() => controller.abort(new Error('query deadline passed')), this.owner.deadlineMs);
      this.#timer.unref();
    }
    return this.#controller.signal;
  }

  onDone(listener: (done: Done) => void): void {
    (this.#listeners ??= []).push(listener);
  }

  /** Is there a listener or a deadline timer that finish() must settle? */
  get awaitsFinish(): boolean {
    return this.#listeners !== undefined || this.#controller !== undefined;
  }

  /** Called once by the server after sending (or dropping) the reply. */
  finish(done: Done): void {
    if (this.#controller) {
      clearTimeout(this.#timer);
      this.owner.untrack(this.#controller);
    }
    if (this.#listeners) for (const l of this.#listeners) l(done);
  }
}

/** Listeners keep their LocalPeer: its label is made once, not per query. */
const SERVER_LABELS = new WeakMap<LocalPeer, string>();

/** The last listener asked about: one listener takes nearly every query, so most calls skip the WeakMap. */
let lastLocal: LocalPeer | undefined;
let lastLabel = '';

function serverLabel(local: LocalPeer): string {
  if (local === lastLocal) return lastLabel;
  let label = SERVER_LABELS.get(local);
  if (label === undefined) SERVER_LABELS.set(local, (label = `${local.scheme ?? 'dns'}://:${local.port}`));
  lastLocal = local;
  lastLabel = label;
  return label;
}

/** A request the rest of the chain sees after next(changes): its own question and EDNS, the rest its base's. */
class DerivedRequest implements Request {
  readonly query: Message;
  readonly qname: string;
  readonly qtype: string;
  readonly qclass: string;
  readonly udpSize: number;
  readonly edns: boolean;
  readonly ednsOptions: readonly EdnsOption[];
  readonly #base: Request;

  constructor(base: Request, query: Message) {
    this.#base = base;
    this.query = query;
    const q = query.question[0]!;
    this.qname = q.name.toLowerCase();
    this.qtype = q.type;
    this.qclass = q.class;
    const edns = query.edns;
    this.udpSize = edns ? Math.max(512, edns.udpSize) : 512;
    this.edns = edns !== undefined;
    this.ednsOptions = edns?.options ?? NO_OPTIONS;
  }

  get do(): boolean { return this.#base.do; }
  get cd(): boolean { return this.#base.cd; }
  get client(): Request['client'] { return this.#base.client; }
  get local(): Peer { return this.#base.local; }
  get zone(): string { return this.#base.zone; }
  get server(): string { return this.#base.server; }
  get size(): number { return this.#base.size; }
  get start(): number { return this.#base.start; }
  get signal(): AbortSignal { return this.#base.signal; }
  get original(): Request { return this.#base.original; }
  get metadata(): Metadata { return this.#base.metadata; }
  onDone(listener: (done: Done) => void): void {
    this.#base.onDone(listener);
  }
}

/**
 * The request `changes` make of `req` (what next(changes) hands the rest of the chain). A name, type
 * or class that cannot be sent throws a SERVFAIL DnsError naming the problem (logged, not a panic).
 */
export function deriveRequest(req: Request, changes: RequestChanges): Request {
  const q = req.query.question[0]!;
  const name = changes.name === undefined ? q.name : checkedName(changes.name);
  const type = changes.type === undefined ? q.type : checkedType(changes.type);
  const cls = changes.class === undefined ? q.class : checkedClass(changes.class);
  let edns: Edns | undefined = req.query.edns;
  if (changes.ednsOptions !== undefined || changes.udpSize !== undefined) {
    const udpSize = changes.udpSize === undefined ? undefined : Math.max(512, Math.min(65535, Math.trunc(changes.udpSize)));
    if (edns) {
      edns = { ...edns, ...(udpSize !== undefined ? { udpSize } : {}), ...(changes.ednsOptions ? { options: changes.ednsOptions } : {}) };
    } else if (changes.ednsOptions && changes.ednsOptions.length > 0) {
      // Options for a query that had no OPT need one (as CoreDNS's rewrite edns0 adds it); the
      // client still gets an answer without EDNS, since the server answers the client's own query.
      edns = { udpSize: udpSize ?? 512, do: false, version: 0, options: changes.ednsOptions };
    }
    if (udpSize !== undefined && req.query.edns) {
      (req.original as { replyUdpSize?: number }).replyUdpSize = Math.min(udpSize, (req.original as { replyUdpSize?: number }).replyUdpSize ?? 65535);
    }
  }
  const query: Message = { ...req.query, question: [{ name, type, class: cls }], ...(edns ? { edns } : {}) };
  return new DerivedRequest(req, query);
}

function checkedName(raw: string): string {
  const name = trimDot(raw);
  if (name === '') return name;
  if (name.length > 253) throw new DnsError(Rcode.SERVFAIL, `derived request: name '${raw}' is longer than 253 characters`);
  // Label lengths in one pass over the characters; a non-ASCII name is measured in UTF-8 bytes.
  let start = 0;
  for (let i = 0; i <= name.length; i++) {
    const c = i === name.length ? 46 : name.charCodeAt(i);
    if (c > 127) return checkedUnicodeName(raw, name);
    if (c !== 46) continue;
    const len = i - start;
    if (len === 0 || len > 63) throw new DnsError(Rcode.SERVFAIL, `derived request: name '${raw}' has an empty or over-long label`);
    start = i + 1;
  }
  return name;
}

function checkedUnicodeName(raw: string, name: string): string {
  for (const label of name.split('.')) {
    const len = Buffer.byteLength(label);
    if (len === 0 || len > 63) throw new DnsError(Rcode.SERVFAIL, `derived request: name '${raw}' has an empty or over-long label`);
  }
  return name;
}

function checkedType(raw: string): string {
  if (raw === 'A' || raw === 'AAAA' || raw === 'SRV' || raw === 'CNAME' || raw === 'TXT' || raw === 'PTR') return raw;
  try {
    return typeName(typeCode(raw.toUpperCase()));
  } catch {
    throw new DnsError(Rcode.SERVFAIL, `derived request: unknown record type '${raw}'`);
  }
}

function checkedClass(raw: string): string {
  const upper = raw.toUpperCase();
  if (CLASS_CODES[upper] !== undefined) return upper;
  const m = /^CLASS(\d{1,5})$/.exec(upper);
  if (m && Number(m[1]) < 65536) return className(Number(m[1]));
  throw new DnsError(Rcode.SERVFAIL, `derived request: unknown class '${raw}'`);
}
