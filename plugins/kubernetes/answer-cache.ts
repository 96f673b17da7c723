// Answers made from the index, kept as wire bytes from one index change to the next. Every answer is
// kept for the fast path (docs/fast-path.md), which sends it without building records or encoding;
// the ordinary path also answers big ones (a headless Service's SRV with glue, A/AAAA of many
// endpoints) from them: building 1,000 records per query costs ~200× a ClusterIP answer, which lets
// one client's queries starve everyone's. An entry is made on the first query after a change; the
// server cuts it at a record to the client's size (WireLayout.records).
import { WireReply, type Message, type WireAnswer } from '../../core/message.js';
import type { Request } from '../../core/plugin.js';
import { wireAnswer } from '../../core/wire.js';

/** The ordinary path builds answers with fewer records per query: cheap, and they stay Messages for other plugins. */
export const BIG_ANSWER_RECORDS = 32;
/**
 * Bounds on what is kept: past either, everything kept is dropped and kept afresh (queries for random
 * names cannot grow it). An entry costs its bytes and about ENTRY_OVERHEAD of objects besides.
 */
const MAX_ENTRIES = 20_000;
const MAX_BYTES = 16 * 1024 * 1024;
const ENTRY_OVERHEAD = 320;

export class AnswerCache {
  /** qtype → lower-cased qname → answer (class IN only): no key string built per query. */
  readonly #byType = new Map<string, Map<string, WireAnswer>>();
  #entries = 0;
  #bytes = 0;
  readonly #unsubscribe: () => void;

  /** `onChange` subscribes to the index: any change empties the cache (answers are rebuilt lazily). */
  constructor(onChange: (listener: () => void) => () => void) {
    this.#unsubscribe = onChange(() => this.clear());
  }

  /** The kept answer to this question, for the fast path. */
  answer(req: Request): WireAnswer | undefined {
    if (this.#entries === 0 || req.qclass !== 'IN') return undefined;
    return this.#byType.get(req.qtype)?.get(req.qname);
  }

  /** A copy of the kept answer to this question when it is big (the ordinary path builds small ones), or undefined. */
  get(req: Request): WireReply | undefined {
    const kept = this.answer(req);
    if (kept === undefined || kept.layout.records.ends.length < BIG_ANSWER_RECORDS) return undefined;
    // Each reply gets its own bytes: the server patches ID, flags, question and OPT in place.
    return new WireReply(Buffer.from(kept.wire), kept.layout);
  }

  /** Keeps `reply` (an answer made from the index alone for `req`) and returns it: as a copy of the kept bytes when big. */
  offer(req: Request, reply: Message): Message | WireReply {
    if (reply.edns || req.qclass !== 'IN') return reply;
    // Kept already (a small answer, which the ordinary path builds anyway): not encoded again, which
    // would also leave the old bytes as garbage for the old generation.
    if (this.#byType.get(req.qtype)?.has(req.qname)) return reply;
    const kept = wireAnswer(reply);
    if (kept.wire.length > MAX_BYTES / 4) return reply;
    const cost = kept.wire.length + ENTRY_OVERHEAD;
    if (this.#entries >= MAX_ENTRIES || this.#bytes + cost > MAX_BYTES) this.clear();
    let names = this.#byType.get(req.qtype);
    if (!names) this.#byType.set(req.qtype, (names = new Map()));
    this.#entries++;
    names.set(req.qname, kept);
    this.#bytes += cost;
    const records = reply.answer.length + reply.additional.length + reply.authority.length;
    return records < BIG_ANSWER_RECORDS ? reply : new WireReply(Buffer.from(kept.wire), kept.layout);
  }

  clear(): void {
    this.#byType.clear();
    this.#entries = 0;
    this.#bytes = 0;
  }

  close(): void {
    this.#unsubscribe();
    this.clear();
  }
}
