// The rewrite handler: one rule; when it applies, the rest of the chain sees the derived question (next(changes))
// and the reply is mapped back by the rule's response rules.
import { DnsError, fqdn, Rcode, type Next, type Reply, type Request } from 'nodens';
import { nameProblem } from '../pkg/dns-name.js';
import { mapReply } from './response.js';
import type { Rule } from './rule.js';

/**
 * The client request whose rewrites a `stop` rule ended. CoreDNS's rules of one block form one list, and a `stop`
 * rule that applied ends it. The block's rewrite handlers sit next to each other in the chain, and next() runs the
 * following ones synchronously, so a variable set just around that call says it to them without a per-query
 * allocation (a WeakSet entry cost more than the whole rewrite).
 */
let stoppedFor: Request | undefined;

export class RewriteHandler {
  constructor(private readonly rule: Rule) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (stoppedFor !== undefined && stoppedFor === req.original) return next();
    const r = this.rule.rewrite(req.qname, req);
    if (r === undefined) return next();
    const name = r.name;
    if (name !== undefined) {
      const problem = nameProblem(name);
      // A regex group can make a name that no static check could refuse (a label of 70 characters).
      if (problem) throw new DnsError(Rcode.SERVFAIL, `invalid name after rewrite: ${fqdn(name)}: ${problem}`);
    }
    let reply: Reply | Promise<Reply>;
    // Restored after, not cleared: a query a later plugin starts from inside next() (a CNAME lookup) runs its own
    // rewrites in between.
    const outer = stoppedFor;
    if (this.rule.mode === 'stop') stoppedFor = req.original;
    try {
      reply = next({ name, type: r.type, class: r.class, ednsOptions: r.ednsOptions });
    } finally {
      stoppedFor = outer;
    }
    const rules = r.response;
    if (rules.length === 0) return reply;
    return reply instanceof Promise ? reply.then((x) => mapReply(x, rules)) : mapReply(reply, rules);
  }
}
