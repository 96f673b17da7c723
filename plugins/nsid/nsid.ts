// The nsid handler: a query that asks for the name server identifier (RFC 5001, an empty NSID option)
// gets ours in the reply's OPT record, whoever below produced the reply.
import { EdnsCode, ednsOption, replyEdnsOptions, withEdnsOption, WireReply, type EdnsOption, type Next, type Reply, type Request } from 'nodens';

export class Nsid {
  readonly #option: EdnsOption;

  constructor(data: string) {
    this.#option = { code: EdnsCode.NSID, data: Buffer.from(data, 'utf8') };
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    // Only clients that ask get it (CoreDNS: an NSID option in the query's OPT).
    if (req.ednsOptions.length === 0 || !ednsOption(req, EdnsCode.NSID)) return next();
    const reply = next();
    return reply instanceof Promise ? reply.then((r) => this.#withNsid(r)) : this.#withNsid(reply);
  }

  /** The reply with our NSID, replacing one a plugin below may have set. */
  #withNsid(reply: Reply): Reply {
    const options = replyEdnsOptions(reply);
    if (!options.some((o) => o.code === EdnsCode.NSID)) return withEdnsOption(reply, this.#option);
    const replaced = options.map((o) => (o.code === EdnsCode.NSID ? this.#option : o));
    if (reply instanceof WireReply) return new WireReply(reply.wire, reply.layout, replaced);
    return { ...reply, edns: { ...reply.edns!, options: replaced } };
  }
}
