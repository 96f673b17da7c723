// The rewrite handler: one rule; when it applies, the rest of the chain sees the derived question (next(changes))
// and the reply is mapped back by the rule's response rules.
import { DnsError, fqdn, Rcode, type EdnsOption, type Next, type Reply, type Request, type RequestChanges } from 'nodens';
import { fromFqdn, nameProblem } from '../pkg/dns-name.js';
import { mapReply } from './response.js';
import type { Rule, RuleQuery } from './rule.js';

/**
 * Queries a `stop` rule has rewritten, keyed by the client's request: CoreDNS's rules of one block form one list,
 * and a `stop` rule that applied ends it, so the later `rewrite` handlers of the chain let the query pass.
 */
const stopped = new WeakSet<object>();

export class RewriteHandler {
  constructor(private readonly rule: Rule) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (stopped.has(req.original)) return next();
    const query: RuleQuery = {
      name: fqdn(req.qname), type: req.qtype, class: req.qclass,
      ednsOptions: req.ednsOptions, req,
    };
    const r = this.rule.rewrite(query);
    if (r === undefined) return next();
    if (this.rule.mode === 'stop') stopped.add(req.original);
    const changes: { -readonly [K in keyof RequestChanges]: RequestChanges[K] } = {};
    if (r.name !== undefined) {
      const name = fromFqdn(r.name);
      const problem = nameProblem(name);
      // A regex group can make a name that no static check could refuse (a label of 70 characters).
      if (problem) throw new DnsError(Rcode.SERVFAIL, `invalid name after rewrite: ${r.name}: ${problem}`);
      changes.name = name;
    }
    if (r.type !== undefined) changes.type = r.type;
    if (r.class !== undefined) changes.class = r.class;
    if (r.ednsOptions !== undefined) changes.ednsOptions = r.ednsOptions;
    const reply = next(changes);
    const rules = r.response;
    if (rules.length === 0) return reply;
    return reply instanceof Promise ? reply.then((x) => mapReply(x, rules)) : mapReply(reply, rules);
  }
}
