// The local handler: answers the RFC 6761 special names itself so they never leave the server:
// localhost (and names under it), and the reverse zones 0, 127 and 255.in-addr.arpa.
import { makeReply, matchZone, Rcode, type Message, type Next, type Reply, type Request, type ResourceRecord } from 'nodens';
import { LOCAL_TTL, localhostNS, localhostSOA, loopbackRecord } from './records.js';

/** The zones local answers for (CoreDNS's plugin/local: ip6.arpa is not intercepted). */
export const LOCAL_ZONES: readonly string[] = ['localhost', '0.in-addr.arpa', '127.in-addr.arpa', '255.in-addr.arpa'];
const LOCALHOST = 'localhost';
const LOOPBACK_PTR = '1.0.0.127.in-addr.arpa';

export interface LocalSettings {
  /** Answer legacy `localhost.<domain>` names as localhost. */
  readonly localhostPrefix: boolean;
  /** Called for a name under localhost or a legacy `localhost.<domain>` one (metric and debug log). */
  readonly onLocalhost?: (req: Request) => void;
}

export class Local {
  constructor(private readonly settings: LocalSettings) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const name = req.qname;
    if (name.length > LOCALHOST.length && (name.endsWith('.localhost') || (this.settings.localhostPrefix && name.startsWith('localhost.')))) {
      this.settings.onLocalhost?.(req);
      return localhostReply(req);
    }
    const zone = matchZone(name, LOCAL_ZONES);
    if (zone === undefined) return next();
    return zoneReply(req, zone);
  }
}

/** localhost itself, a name under it, or a legacy localhost.<domain>: loopback addresses, NODATA for other types. */
function localhostReply(req: Request): Message {
  const qname = req.query.question[0]!.name;
  const address = loopbackRecord(qname, req.qtype);
  return address ? makeReply(req.query, { answer: [address] }) : makeReply(req.query, { authority: [localhostSOA(qname)] });
}

/** A name in one of the local zones: the apex records, the loopback PTR, NXDOMAIN for anything else. */
function zoneReply(req: Request, zone: string): Message {
  const qname = req.query.question[0]!.name;
  // The zone as the client spelled it, for the SOA's owner name.
  const zoneName = qname.slice(qname.length - zone.length);
  let answer: ResourceRecord[] = [];
  let authority: ResourceRecord[] = [];
  if (req.qname === zone) {
    switch (req.qtype) {
      case 'A': case 'AAAA': {
        const address = zone === LOCALHOST ? loopbackRecord(qname, req.qtype) : undefined;
        if (address) answer = [address];
        else authority = [localhostSOA(qname)];
        break;
      }
      case 'SOA': answer = [localhostSOA(qname)]; break;
      case 'NS': answer = [localhostNS(qname)]; break;
      default: authority = [localhostSOA(qname)];
    }
  } else if (req.qname === LOOPBACK_PTR) {
    if (req.qtype === 'PTR') answer = [{ name: qname, ttl: LOCAL_TTL, class: 'IN', type: 'PTR', data: LOCALHOST }];
    else authority = [localhostSOA(zoneName)];
  }
  if (answer.length === 0 && authority.length === 0) {
    return makeReply(req.query, { rcode: Rcode.NXDOMAIN, authority: [localhostSOA(zoneName)] });
  }
  return makeReply(req.query, { answer, authority });
}
