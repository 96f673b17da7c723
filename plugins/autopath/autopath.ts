// The autopath handler: a query for NAME.FIRST-SEARCH-DOMAIN is answered for the first name of the client's
// search path that exists, in one round trip, with a CNAME from the asked name to it (CoreDNS's cnamer).
import { Rcode, makeReply, messageOf, type Handler, type Next, type Reply, type Request, type ResourceRecord, trimDot } from 'nodens';

/** A plugin that knows a client's search path (CoreDNS's AutoPather); kubernetes implements it. */
export interface AutoPather {
  /** Search domains, normalised, with '' last for the bare name; undefined or []: no autopath for this client. */
  autoPath(req: Request): readonly string[] | undefined;
}

export function isAutoPather(h: unknown): h is AutoPather {
  return typeof (h as Partial<AutoPather> | undefined)?.autoPath === 'function';
}

export interface AutoPathConfig {
  readonly zones: readonly string[];
  /** The search path for every client (a resolv.conf), or per client (@plugin). */
  searchPath(req: Request): readonly string[] | undefined;
  /** Counts answered rewrites (coredns_autopath_success_count_total). */
  onSuccess?(): void;
}

const inZone = (name: string, zone: string): boolean => zone === '' || name === zone || name.endsWith(`.${zone}`);

export class AutoPath implements Handler {
  constructor(private readonly cfg: AutoPathConfig) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (!this.cfg.zones.some((z) => inZone(req.qname, z))) return next();
    const search = this.cfg.searchPath(req);
    if (!search || search.length === 0) return next();
    const first = search[0]!;
    // Only a query in the first search domain is the start of a walk the client would do.
    if (first === '' || !req.qname.endsWith(`.${first}`)) return next();
    return this.#walk(req, next, req.qname.slice(0, -(first.length + 1)), search);
  }

  async #walk(req: Request, next: Next, base: string, search: readonly string[]): Promise<Reply> {
    let firstReply: Reply | undefined;
    for (let i = 0; i < search.length; i++) {
      const s = search[i]!;
      // The first name is the one asked: no derived request needed.
      const reply = await (i === 0 ? next() : next({ name: s === '' ? base : `${base}.${s}` }));
      if (i === 0) firstReply = reply;
      const m = messageOf(reply);
      if (m.rcode === Rcode.NXDOMAIN) continue;
      if (i === 0) return reply;
      this.cfg.onSuccess?.();
      return cnamer(req, m.answer, m);
    }
    // Every name is NXDOMAIN: the first reply as it is, so the client walks its search path itself.
    return firstReply!;
  }
}

/** CoreDNS's cnamer: a CNAME from the asked name to the owner of the first answer not already that name. */
function cnamer(req: Request, answer: readonly ResourceRecord[], m: ReturnType<typeof messageOf>): Reply {
  const original = req.query.question[0]?.name ?? req.qname;
  const lower = trimDot(original).toLowerCase();
  const found = answer.find((a) => trimDot(a.name).toLowerCase() !== lower);
  const cname: ResourceRecord[] = found ? [{ name: original, ttl: found.ttl, type: 'CNAME', data: trimDot(found.name) }] : [];
  return makeReply(req.query, {
    rcode: m.rcode, aa: m.aa, tc: m.tc, ra: m.ra, ad: m.ad,
    answer: [...cname, ...answer], authority: m.authority, additional: m.additional,
  });
}
