// Large answers (a headless Service's SRV with glue, A/AAAA of many endpoints) kept as wire bytes from
// one index change to the next: building 1,000 records per query costs ~200× a ClusterIP answer, which
// lets one client's queries starve everyone's. An entry is made on the first query after a change and
// copied per reply; the server cuts it at a record to the client's size (WireLayout.records).
import { WireReply, type Message, type WireLayout } from '../../core/message.js';
import type { Request } from '../../core/plugin.js';
import { encodeMessage } from '../../core/wire.js';

/** Answers with fewer records are built per query: cheap, and not worth the memory. */
export const BIG_ANSWER_RECORDS = 32;
const MAX_ENTRIES = 256;
const MAX_BYTES = 32 * 1024 * 1024;

interface Entry {
  readonly wire: Buffer;
  readonly layout: WireLayout;
}

export class AnswerCache {
  readonly #entries = new Map<string, Entry>();
  #bytes = 0;
  readonly #unsubscribe: () => void;

  /** `onChange` subscribes to the index: any change empties the cache (answers are rebuilt lazily). */
  constructor(onChange: (listener: () => void) => () => void) {
    this.#unsubscribe = onChange(() => this.clear());
  }

  /** A copy of the stored answer to this question, or undefined. */
  get(req: Request): WireReply | undefined {
    if (this.#entries.size === 0) return undefined;
    const e = this.#entries.get(keyOf(req));
    if (e === undefined) return undefined;
    // Each reply gets its own bytes: the server patches ID, flags, question and OPT in place.
    return new WireReply(Buffer.from(e.wire), e.layout);
  }

  /**
   * Keeps `reply` (a positive answer made for `req`) when it is big, and returns it as wire bytes;
   * a small one is returned as it is.
   */
  offer(req: Request, reply: Message): Message | WireReply {
    if (reply.answer.length + reply.additional.length + reply.authority.length < BIG_ANSWER_RECORDS || reply.edns) return reply;
    const ends: number[] = [];
    const wire = encodeMessage(reply, { recordEnds: ends });
    const entry: Entry = {
      wire,
      layout: { questionEnd: questionEndOf(wire), records: { ends, answer: reply.answer.length, authority: reply.authority.length } },
    };
    if (wire.length > MAX_BYTES / 4) return reply;
    while (this.#entries.size >= MAX_ENTRIES || (this.#bytes + wire.length > MAX_BYTES && this.#entries.size > 0)) this.#evictOldest();
    this.#entries.set(keyOf(req), entry);
    this.#bytes += wire.length;
    return new WireReply(Buffer.from(wire), entry.layout);
  }

  clear(): void {
    this.#entries.clear();
    this.#bytes = 0;
  }

  close(): void {
    this.#unsubscribe();
    this.clear();
  }

  #evictOldest(): void {
    const first = this.#entries.entries().next().value;
    if (!first) return;
    this.#entries.delete(first[0]);
    this.#bytes -= first[1].wire.length;
  }
}

function keyOf(req: Request): string {
  return `${req.qname}|${req.qtype}|${req.qclass}`;
}

/** Just past the single question: its name's labels, then type and class. */
function questionEndOf(wire: Buffer): number {
  let pos = 12;
  while (wire[pos]! !== 0) pos += wire[pos]! + 1;
  return pos + 5;
}
