// The k8s_external handler (CoreDNS's plugin/k8s_external): Services' external addresses under an
// external zone, with an apex (SOA, NS) and a `dns` subdomain where the name servers live.
import { isIPv4, isIPv6 } from 'node:net';
import {
  Rcode, fallsThrough, makeQuery, makeReply, matchZone, messageOf, stripZone,
  type Fallthrough, type Handler, type Message, type Next, type Reply, type Request, type ResourceRecord, type SOARecord,
} from 'nodens';

/** One external answer (an IP, or a load-balancer hostname); `label` names a headless endpoint. */
export interface ExternalAnswer {
  readonly host: string;
  readonly port: number;
  readonly label: string;
  readonly service: string;
  readonly namespace: string;
  readonly ttl: number;
}

/** What the kubernetes plugin offers k8s_external (CoreDNS's Externaler). */
export interface ExternalSource {
  /** `base` is the name without the external zone; rcode says NXDOMAIN or NODATA when there is nothing. */
  external(base: string, headless: boolean): { services: readonly ExternalAnswer[]; rcode: number };
  externalAddresses(): readonly string[];
  externalSerial(): number;
}

export function isExternalSource(h: unknown): h is ExternalSource {
  const s = h as Partial<ExternalSource> | undefined;
  return typeof s?.external === 'function' && typeof s.externalAddresses === 'function' && typeof s.externalSerial === 'function';
}

export interface K8sExternalConfig {
  readonly zones: readonly string[];
  readonly apex: string;
  readonly ttl: number;
  readonly headless: boolean;
  readonly fall: Fallthrough;
  source(): ExternalSource | undefined;
  /** Load-balancer hostnames are resolved through the whole server (CoreDNS's upstream). */
  resolve(query: Message): Promise<Reply>;
}

const join = (...parts: string[]): string => parts.filter((p) => p !== '').join('.');

export class K8sExternal implements Handler {
  constructor(private readonly cfg: K8sExternalConfig) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const zone = matchZone(req.qname, this.cfg.zones);
    const src = this.cfg.source();
    if (zone === undefined || src === undefined) return next();
    if (req.qname === zone) return this.#apex(req, src, zone);
    const sub = join(this.cfg.apex, zone);
    if (req.qname === sub || req.qname.endsWith(`.${sub}`)) return this.#subApex(req, src, zone, stripZone(req.qname, sub));
    const { services, rcode } = src.external(stripZone(req.qname, zone), this.cfg.headless);
    if (services.length === 0) {
      if (rcode === Rcode.NXDOMAIN && fallsThrough(this.cfg.fall, req.qname)) return next();
      return makeReply(req.query, { rcode, aa: true, authority: [this.#soa(src, zone)] });
    }
    return this.#answer(req, src, zone, services);
  }

  async #answer(req: Request, src: ExternalSource, zone: string, services: readonly ExternalAnswer[]): Promise<Reply> {
    const owner = req.query.question[0]?.name ?? req.qname;
    let answer: ResourceRecord[] = [];
    let additional: ResourceRecord[] = [];
    let tc = false;
    if (req.qtype === 'A' || req.qtype === 'AAAA') {
      const seen = new Set<string>();
      for (const s of services) {
        if (isIPv4(s.host) || isIPv6(s.host)) {
          if (isIPv6(s.host) !== (req.qtype === 'AAAA') || seen.has(s.host)) continue;
          seen.add(s.host);
          answer.push(req.qtype === 'A' ? { name: owner, ttl: this.cfg.ttl, type: 'A', data: s.host } : { name: owner, ttl: this.cfg.ttl, type: 'AAAA', data: s.host });
        } else {
          // A load-balancer hostname: CNAME to it, then its addresses as the server resolves them.
          answer.push({ name: owner, ttl: s.ttl, type: 'CNAME', data: s.host });
          const m = await this.#lookup(s.host, req.qtype);
          if (m) {
            answer.push(...m.answer);
            tc ||= m.tc;
          }
        }
      }
    } else if (req.qtype === 'SRV') {
      ({ answer, additional } = await this.#srv(owner, zone, services));
    }
    if (answer.length === 0) return makeReply(req.query, { aa: true, authority: [this.#soa(src, zone)] });
    return makeReply(req.query, { aa: true, tc, answer, additional });
  }

  async #srv(owner: string, zone: string, services: readonly ExternalAnswer[]): Promise<{ answer: ResourceRecord[]; additional: ResourceRecord[] }> {
    const answer: ResourceRecord[] = [];
    const additional: ResourceRecord[] = [];
    const weight = Math.max(1, Math.floor(100 / services.length));
    const seen = new Set<string>();
    for (const s of services) {
      if (s.port === -1) continue;
      const ip = isIPv4(s.host) || isIPv6(s.host);
      const target = ip ? join(s.label, s.service, s.namespace, zone) : s.host;
      if (!seen.has(`${target} ${s.port}`)) {
        seen.add(`${target} ${s.port}`);
        answer.push({ name: owner, ttl: s.ttl, type: 'SRV', data: { priority: 0, weight, port: s.port, target } });
      }
      if (seen.has(`${target} @${s.host}`)) continue;
      seen.add(`${target} @${s.host}`);
      if (ip) {
        additional.push(isIPv6(s.host) ? { name: target, ttl: this.cfg.ttl, type: 'AAAA', data: s.host } : { name: target, ttl: this.cfg.ttl, type: 'A', data: s.host });
      } else {
        for (const type of ['A', 'AAAA']) additional.push(...((await this.#lookup(s.host, type))?.answer ?? []));
      }
    }
    return { answer, additional };
  }

  async #lookup(name: string, type: string): Promise<Message | undefined> {
    try {
      return messageOf(await this.cfg.resolve(makeQuery(name, type)));
    } catch {
      return undefined; // as CoreDNS: a failed upstream lookup adds nothing
    }
  }

  #apex(req: Request, src: ExternalSource, zone: string): Reply {
    const ns = join('ns1', this.cfg.apex, zone);
    if (req.qtype === 'SOA') return makeReply(req.query, { aa: true, answer: [this.#soa(src, zone)] });
    if (req.qtype === 'NS') {
      const owner = req.query.question[0]?.name ?? req.qname;
      return makeReply(req.query, {
        aa: true, answer: [{ name: owner, ttl: this.cfg.ttl, type: 'NS', data: ns }], additional: this.#addresses(src, ns, undefined),
      });
    }
    return makeReply(req.query, { aa: true, authority: [this.#soa(src, zone)] });
  }

  /** `dns.ZONE` is an empty non-terminal (NODATA), `ns1.dns.ZONE` has our addresses, anything else is NXDOMAIN. */
  #subApex(req: Request, src: ExternalSource, zone: string, rel: string): Reply {
    if (rel === '') return makeReply(req.query, { aa: true, authority: [this.#soa(src, zone)] });
    if (rel !== 'ns1') return makeReply(req.query, { rcode: Rcode.NXDOMAIN, aa: true, authority: [this.#soa(src, zone)] });
    const owner = req.query.question[0]?.name ?? req.qname;
    const answer = req.qtype === 'A' || req.qtype === 'AAAA' ? this.#addresses(src, owner, req.qtype) : [];
    return answer.length > 0 ? makeReply(req.query, { aa: true, answer }) : makeReply(req.query, { aa: true, authority: [this.#soa(src, zone)] });
  }

  #addresses(src: ExternalSource, owner: string, only: 'A' | 'AAAA' | undefined): ResourceRecord[] {
    const out: ResourceRecord[] = [];
    for (const ip of src.externalAddresses()) {
      const v6 = isIPv6(ip);
      if (only === 'A' && v6) continue;
      if (only === 'AAAA' && !v6) continue;
      out.push(v6 ? { name: owner, ttl: this.cfg.ttl, type: 'AAAA', data: ip } : { name: owner, ttl: this.cfg.ttl, type: 'A', data: ip });
    }
    return out;
  }

  #soa(src: ExternalSource, zone: string): SOARecord {
    return {
      name: zone, ttl: this.cfg.ttl, type: 'SOA',
      data: {
        mname: join('ns1', this.cfg.apex, zone), rname: join('hostmaster', this.cfg.apex, zone),
        serial: src.externalSerial(), refresh: 7200, retry: 1800, expire: 86400, minimum: this.cfg.ttl,
      },
    };
  }
}
