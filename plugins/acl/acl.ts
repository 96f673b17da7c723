// The acl handler: the first rule whose zones hold the query name decides, by its first matching
// policy: block (REFUSED, EDE 15 Blocked), filter (empty NOERROR, EDE 17 Filtered), drop (no reply),
// allow (on down the chain).
import { DropQuery, EdeCode, fqdn, makeReply, matchZone, Rcode, withExtendedError, type Next, type Reply, type Request } from 'nodens';
import { parseAddress, type Address } from './cidr.js';
import { matchPolicies, type Policy } from './policy.js';

/** One `acl [ZONES...] { ... }` directive. */
export interface Rule {
  readonly zones: readonly string[];
  readonly policies: readonly Policy[];
}

/** What acl counts (coredns_acl_*_requests_total) and logs; injectable for tests. */
export interface AclEvents {
  blocked(req: Request, zone: string): void;
  filtered(req: Request, zone: string): void;
  dropped(req: Request, zone: string): void;
  allowed(req: Request): void;
  /** A source address that does not parse: the query is blocked. */
  badSource(req: Request): void;
}

/**
 * The acl directives of one server block act as one list of rules, as in CoreDNS (where they are one
 * handler): an `allow` ends the checks of the directives after it, and a query no rule matched is
 * counted as allowed once, by the last directive.
 */
export interface AclGroup {
  /** Requests an earlier directive allowed explicitly; undefined when the block has one acl. */
  readonly allowed: WeakSet<Request> | undefined;
  readonly last: boolean;
}
const ALONE: AclGroup = { allowed: undefined, last: true };

export class Acl {
  /** One instance for all drops: a drop (often under a flood) should not capture a stack trace. */
  readonly #drop = new DropQuery('acl: query dropped');
  #group: AclGroup | undefined;
  // The last client's parsed address: queries come in bursts from one client (a pod, a resolver).
  #lastClient = '';
  #lastSource: Address | undefined;

  constructor(
    private readonly rules: readonly Rule[],
    private readonly events: AclEvents,
    /** Asked on the first query (every directive is set up by then). */
    private readonly groupOf: () => AclGroup = () => ALONE,
  ) {}

  #source(address: string): Address | undefined {
    if (address !== this.#lastClient) {
      this.#lastSource = parseAddress(address);
      this.#lastClient = address;
    }
    return this.#lastSource;
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const group = (this.#group ??= this.groupOf());
    if (group.allowed?.has(req)) return next();
    let source: Address | undefined | null = null; // null: not parsed yet
    for (const rule of this.rules) {
      const zone = matchZone(req.qname, rule.zones);
      if (zone === undefined) continue;
      if (source === null) source = this.#source(req.client.address);
      if (!source) {
        this.events.badSource(req);
        this.events.blocked(req, fqdn(zone));
        return blockedReply(req);
      }
      switch (matchPolicies(rule.policies, req.qtype, source)) {
        case 'drop':
          this.events.dropped(req, fqdn(zone));
          throw this.#drop;
        case 'block':
          this.events.blocked(req, fqdn(zone));
          return blockedReply(req);
        case 'filter':
          this.events.filtered(req, fqdn(zone));
          return withExtendedError(makeReply(req.query), EdeCode.Filtered);
        case 'allow':
          this.events.allowed(req);
          group.allowed?.add(req);
          return next();
        case undefined:
          break;
      }
    }
    if (group.last) this.events.allowed(req);
    return next();
  }
}

/** REFUSED with Extended DNS Error 15 (Blocked), as CoreDNS's acl answers (the EDE reaches EDNS clients only). */
function blockedReply(req: Request): Reply {
  return withExtendedError(makeReply(req.query, { rcode: Rcode.REFUSED }), EdeCode.Blocked);
}
