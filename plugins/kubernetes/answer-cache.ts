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
/** An entry costs its bytes and about this much of objects besides. */
const ENTRY_OVERHEAD = 320;

/** Answers by qtype, then lower-cased qname (class IN only): no key string built per query. */
class Kept {
  readonly #byType = new Map<string, Map<string, WireAnswer>>();
  entries = 0;
  bytes = 0;

  get(qtype: string, qname: string): WireAnswer | undefined {
    return this.entries === 0 ? undefined : this.#byType.get(qtype)?.get(qname);
  }

  set(qtype: string, qname: string, answer: WireAnswer): void {
    let names = this.#byType.get(qtype);
    if (!names) this.#byType.set(qtype, (names = new Map()));
    names.set(qname, answer);
    this.entries++;
    this.bytes += answer.wire.length + ENTRY_OVERHEAD;
  }

  delete(qtype: string, qname: string): void {
    const answer = this.#byType.get(qtype)?.get(qname);
    if (!answer) return;
    this.#byType.get(qtype)!.delete(qname);
    this.entries--;
    this.bytes -= answer.wire.length + ENTRY_OVERHEAD;
  }

  clear(): void {
    this.#byType.clear();
    this.entries = 0;
    this.bytes = 0;
  }
}

/**
 * Small answers: once 20,000 or 16 MB are kept, nothing more is until the next index change empties
 * them. Queries for more names than fit, or for random names, then take the ordinary path as they did
 * before answers were kept, rather than churn through entries (each one encoded, kept a while and
 * dropped: garbage for the old generation).
 */
const SMALL = { entries: 20_000, bytes: 16 * 1024 * 1024 };
/** Big answers have their own room, the oldest making way, so that no flood of small ones can push them out. */
const BIG = { entries: 256, bytes: 32 * 1024 * 1024 };

export class AnswerCache {
  readonly #small = new Kept();
  readonly #big = new Kept();
  /** The big entries in the order kept, for making room. */
  readonly #bigOrder: [qtype: string, qname: string][] = [];
  readonly #unsubscribe: () => void;

  /** `onChange` subscribes to the index: any change empties the cache (answers are rebuilt lazily). */
  constructor(onChange: (listener: () => void) => () => void) {
    this.#unsubscribe = onChange(() => this.clear());
  }

  /** The kept answer to this question, for the fast path. */
  answer(req: Request): WireAnswer | undefined {
    if (req.qclass !== 'IN') return undefined;
    return this.#small.get(req.qtype, req.qname) ?? this.#big.get(req.qtype, req.qname);
  }

  /** A copy of the kept answer to this question when it is big (the ordinary path builds small ones), or undefined. */
  get(req: Request): WireReply | undefined {
    const kept = req.qclass === 'IN' ? this.#big.get(req.qtype, req.qname) : undefined;
    // Each reply gets its own bytes: the server patches ID, flags, question and OPT in place.
    return kept && new WireReply(Buffer.from(kept.wire), kept.layout);
  }

  /** Keeps `reply` (an answer made from the index alone for `req`) and returns it: as a copy of the kept bytes when big. */
  offer(req: Request, reply: Message): Message | WireReply {
    if (reply.edns || req.qclass !== 'IN') return reply;
    const big = reply.answer.length + reply.additional.length + reply.authority.length >= BIG_ANSWER_RECORDS;
    if (!big) {
      if (this.#small.entries >= SMALL.entries || this.#small.get(req.qtype, req.qname)) return reply;
      const kept = wireAnswer(reply);
      if (this.#small.bytes + kept.wire.length + ENTRY_OVERHEAD <= SMALL.bytes) this.#small.set(req.qtype, req.qname, kept);
      return reply;
    }
    const existing = this.#big.get(req.qtype, req.qname);
    if (existing) return new WireReply(Buffer.from(existing.wire), existing.layout);
    const kept = wireAnswer(reply);
    if (kept.wire.length > BIG.bytes / 4) return reply;
    while (this.#bigOrder.length > 0 && (this.#big.entries >= BIG.entries || this.#big.bytes + kept.wire.length + ENTRY_OVERHEAD > BIG.bytes)) {
      const [qtype, qname] = this.#bigOrder.shift()!;
      this.#big.delete(qtype, qname);
    }
    this.#big.set(req.qtype, req.qname, kept);
    this.#bigOrder.push([req.qtype, req.qname]);
    return new WireReply(Buffer.from(kept.wire), kept.layout);
  }

  clear(): void {
    this.#small.clear();
    this.#big.clear();
    this.#bigOrder.length = 0;
  }

  close(): void {
    this.#unsubscribe();
    this.clear();
  }
}
