// The etcd handler: answers from the mirror as CoreDNS's etcd plugin answers from etcd.
import type { Message, Reply, ResourceRecord } from '../../core/message.js';
import { makeReply, Rcode } from '../../core/message.js';
import { DnsError, type Next, type Request } from '../../core/plugin.js';
import { fallsThrough, matchZone, type Fallthrough } from '../../core/zones.js';
import { address, cname, mx, NotFound, ns, ptr, soa, srv, txt, type LookupContext, type Resolve } from './lookup.js';
import type { ServiceTree } from './store.js';

/** What the handler reads: the mirror's current contents. */
export interface EtcdSource {
  readonly tree: ServiceTree;
  readonly revision: number;
  readonly synced: boolean;
}

/** A computed answer, kept until the mirror changes. */
interface Answer {
  readonly rcode: number;
  readonly answer: readonly ResourceRecord[];
  readonly authority: readonly ResourceRecord[];
  readonly additional: readonly ResourceRecord[];
}

/** The most answers kept between changes; past it the memo starts over (a flood of random names). */
const MEMO_LIMIT = 20_000;

export class EtcdHandler {
  readonly #zones: readonly string[];
  readonly #fall: Fallthrough;
  readonly #source: EtcdSource;
  readonly #resolve: Resolve | undefined;
  /** Answers by "TYPE name", valid for one generation of the mirror's contents. */
  #memo = new Map<string, Answer | 'next'>();
  #generation = 0;

  constructor(zones: readonly string[], fall: Fallthrough, source: EtcdSource, resolve?: Resolve) {
    this.#zones = zones;
    this.#fall = fall;
    this.#source = source;
    this.#resolve = resolve;
  }

  /** The mirror changed: every kept answer is stale. */
  invalidate(): void {
    this.#generation++;
    this.#memo.clear();
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const zone = matchZone(req.qname, this.#zones);
    if (zone === undefined) return next();
    if (!this.#source.synced) throw new DnsError(Rcode.SERVFAIL, 'etcd: the mirror has not loaded yet');
    const key = `${req.qtype} ${req.qname}`;
    const kept = this.#memo.get(key);
    if (kept !== undefined) return kept === 'next' ? next() : this.#reply(req.query, kept);
    return this.#compute(req, zone, key).then((a) => (a === 'next' ? next() : this.#reply(req.query, a)));
  }

  #reply(query: Message, a: Answer): Message {
    return makeReply(query, { aa: true, rcode: a.rcode, answer: a.answer, authority: a.authority, additional: a.additional });
  }

  async #compute(req: Request, zone: string, key: string): Promise<Answer | 'next'> {
    const generation = this.#generation;
    const ctx: LookupContext = { tree: this.#source.tree, zone, qtype: req.qtype, ...(this.#resolve ? { resolve: this.#resolve } : {}) };
    let result: Answer | 'next';
    try {
      const { answer, extra } = await records(ctx, req.qname, req.qtype, this.#source.revision);
      const negative = answer.length === 0;
      result = { rcode: Rcode.NOERROR, answer, authority: negative ? [soa(zone, this.#source.revision)] : [], additional: extra };
    } catch (err) {
      if (!(err instanceof NotFound)) {
        throw new DnsError(Rcode.SERVFAIL, `etcd: ${(err as Error).message}`, { cause: err });
      }
      result = fallsThrough(this.#fall, req.qname)
        ? 'next'
        : { rcode: Rcode.NXDOMAIN, answer: [], authority: [soa(zone, this.#source.revision)], additional: [] };
    }
    if (!ctx.external && generation === this.#generation) {
      if (this.#memo.size >= MEMO_LIMIT) this.#memo.clear();
      this.#memo.set(key, result);
    }
    return result;
  }
}

/** The records of one question (CoreDNS's etcd ServeDNS switch). Throws NotFound for NXDOMAIN. */
async function records(ctx: LookupContext, qname: string, qtype: string, serial: number): Promise<{ answer: ResourceRecord[]; extra: ResourceRecord[] }> {
  const none: ResourceRecord[] = [];
  switch (qtype) {
    case 'A':
    case 'AAAA':
      return { answer: await address(ctx, qname, qtype), extra: none };
    case 'TXT':
      return { answer: await txt(ctx, qname), extra: none };
    case 'CNAME':
      return { answer: cname(ctx, qname), extra: none };
    case 'PTR':
      return { answer: ptr(ctx, qname), extra: none };
    case 'MX': {
      const r = await mx(ctx, qname);
      return { answer: r.answer, extra: r.extra };
    }
    case 'SRV': {
      const r = await srv(ctx, qname);
      return { answer: r.answer, extra: r.extra };
    }
    case 'SOA':
      if (qname === ctx.zone) return { answer: [soa(ctx.zone, serial)], extra: none };
      break;
    case 'NS':
      if (qname === ctx.zone) {
        const r = ns(ctx);
        return { answer: r.answer, extra: r.extra };
      }
      break;
  }
  // Any other type: an address lookup only tells NXDOMAIN (it throws) from NODATA.
  await address(ctx, qname, 'A');
  return { answer: none, extra: none };
}
