// The kubernetes handler: route a query to the record builders, chase ExternalName targets, and shape
// positive, NODATA, NXDOMAIN (or, unsynced, SERVFAIL) replies the way CoreDNS does. All answers are AA.
import { AsyncLocalStorage } from 'node:async_hooks';
import { EdeCode, withExtendedError } from '../../core/edns.js';
import { canonicalIP } from '../../core/ip.js';
import { Rcode, makeQuery, makeReply, messageOf, type Message, type Reply, type ResourceRecord } from '../../core/message.js';
import { SLOW_PATH, type FastPath, type Handler, type Next, type Request } from '../../core/plugin.js';
import { fallsThrough, isInZone, matchZone, stripZone, type Fallthrough } from '../../core/zones.js';
import { AnswerCache } from './answer-cache.js';
import type { ExternalAnswer } from '../k8s_external/k8s_external.js';
import { externalAddresses, externalServices } from './external.js';
import type { ServiceIndex } from './service-index.js';
import { parseName, type RecordRequest } from './names.js';
import {
  addressRecords, find, nsRecords, ptrTargets, soaRecord, srvRecords, type AnswerConfig, type Found,
} from './answers.js';

export interface KubernetesHandlerConfig extends AnswerConfig {
  /** The index answered from; useIndex() swaps it. */
  index: ServiceIndex;
  readonly zones: readonly string[];
  readonly fall: Fallthrough;
  /** Runs a query through the server from the top: out-of-zone ExternalName targets. */
  resolve(query: Message): Promise<Reply>;
  /** The search domains of this server's resolv.conf, appended to a pod's search path by autoPath (CoreDNS's autoPathSearch). */
  readonly autoPathSearch?: readonly string[];
  close?(): Promise<void>;
}

interface Result {
  /** undefined: NXDOMAIN. */
  readonly answer: ResourceRecord[] | undefined;
  readonly additional?: ResourceRecord[];
  readonly tc?: boolean;
}

const NXDOMAIN: Result = { answer: undefined };
const NODATA: Result = { answer: [] };
const DNS_SCHEMA_VERSION = '1.1.0';
/** CoreDNS stops following a CNAME chain after this many links. */
const MAX_CHAIN = 8;
const chainDepth = new AsyncLocalStorage<number>();

export class KubernetesHandler implements Handler {
  /** Answers made from the index, as bytes, until it changes; and the index they were made from. */
  #kept: AnswerCache;

  constructor(private readonly cfg: KubernetesHandlerConfig) {
    this.#kept = new AnswerCache((l) => cfg.index.onChange(l));
  }

  /** Answers already made since the last index change; any other query in our zones takes serve(). */
  readonly fast: FastPath = {
    answer: (req) => (matchZone(req.qname, this.cfg.zones) === undefined ? undefined : this.#kept.answer(req) ?? SLOW_PATH),
  };

  /** Answers from `index` from now on (a reload to another source, once it has synced), with kept answers of its own. */
  useIndex(index: ServiceIndex): void {
    if (index === this.cfg.index) return;
    this.#kept.close();
    this.cfg.index = index;
    this.#kept = new AnswerCache((l) => index.onChange(l));
  }

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const zone = matchZone(req.qname, this.cfg.zones);
    if (zone === undefined) return next();
    if (req.qtype === 'AXFR' || req.qtype === 'IXFR') return makeReply(req.query, { rcode: Rcode.REFUSED });
    // CoreDNS keeps the case of the query in owner names.
    const big = this.#kept.get(req);
    if (big !== undefined) return big;
    const owner = req.query.question[0]?.name ?? req.qname;
    const res = this.#lookup(req.qname, owner, req.qtype, zone, []);
    // Only an answer made from the index alone may be kept: one through resolve() is not the index's.
    return res instanceof Promise ? res.then((r) => this.#reply(req, next, zone, r, false)) : this.#reply(req, next, zone, res, true);
  }

  ready(): boolean {
    return this.cfg.index.synced;
  }

  /**
   * CoreDNS's kubernetes metadata: the client's pod (with `pods verified`, which indexes pods) and,
   * for names in our zones, the parts of the name. Every value is computed only when read.
   */
  metadata(req: Request): void {
    const md = req.metadata;
    if (this.cfg.podMode === 'verified') {
      const { index } = this.cfg;
      let pod: { namespace: string; name: string } | undefined | null = null;
      const clientPod = () => (pod === null ? (pod = index.podWithIP(clientIP(req.client.address))) : pod);
      md.set('kubernetes/client-namespace', () => clientPod()?.namespace);
      md.set('kubernetes/client-pod-name', () => clientPod()?.name);
    }
    const zone = matchZone(req.qname, this.cfg.zones);
    if (zone === undefined) return;
    let parsed: RecordRequest | undefined | null = null;
    const name = () => {
      if (parsed !== null) return parsed;
      const r = parseName(stripZone(req.qname, zone));
      return (parsed = typeof r === 'string' ? undefined : r);
    };
    md.set('kubernetes/endpoint', () => name()?.endpoint ?? '');
    md.set('kubernetes/kind', () => name()?.podOrSvc ?? '');
    md.set('kubernetes/namespace', () => name()?.namespace ?? '');
    md.set('kubernetes/port-name', () => name()?.port ?? '');
    md.set('kubernetes/protocol', () => name()?.protocol ?? '');
    md.set('kubernetes/service', () => name()?.service ?? '');
  }

  /**
   * CoreDNS's AutoPath (the autopath plugin's AutoPather): the search path of the client's pod —
   * NAMESPACE.svc.ZONE, svc.ZONE, ZONE, this server's resolv.conf search domains, then '' (the bare name).
   * Undefined when the query is outside our zones, pods are not verified (no pod index), or the client is
   * no pod we know: hostNetwork pods are not indexed by address (they share the node's), so never autopathed.
   */
  autoPath(req: Request): readonly string[] | undefined {
    const zone = matchZone(req.qname, this.cfg.zones);
    if (zone === undefined || this.cfg.podMode !== 'verified') return undefined;
    const pod = this.cfg.index.podWithIP(clientIP(req.client.address));
    if (pod === undefined) return undefined;
    const dot = zone === '' ? '' : `.${zone}`;
    return [`${pod.namespace}.svc${dot}`, `svc${dot}`, zone, ...(this.cfg.autoPathSearch ?? []), ''];
  }

  /** For k8s_external (its ExternalSource): external answers for a name below an external zone. */
  external(base: string, headless: boolean): { services: ExternalAnswer[]; rcode: number } {
    return externalServices(this.cfg, base, headless);
  }

  /** For k8s_external: the addresses its NS records point at. */
  externalAddresses(): string[] {
    return externalAddresses(this.cfg);
  }

  /** For k8s_external's SOA: changes whenever the cluster data does. */
  externalSerial(): number {
    return this.cfg.index.serial;
  }

  async close(): Promise<void> {
    this.#kept.close();
    await this.cfg.close?.();
  }

  #reply(req: Request, next: Next, zone: string, res: Result, keep: boolean): Reply | Promise<Reply> {
    if (res.answer === undefined) {
      if (fallsThrough(this.cfg.fall, req.qname)) return next();
      if (!this.cfg.index.synced) {
        // Not synced yet: the name may exist, so SERVFAIL, and say why (RFC 8914 Not Ready).
        const reply = makeReply(req.query, { rcode: Rcode.SERVFAIL, aa: true, authority: [soaRecord(this.cfg, zone)] });
        return withExtendedError(reply, EdeCode.NotReady, 'kubernetes: not yet synced with the API');
      }
      return this.#keep(req, keep, makeReply(req.query, { rcode: Rcode.NXDOMAIN, aa: true, authority: [soaRecord(this.cfg, zone)] }));
    }
    if (res.answer.length === 0) return this.#keep(req, keep, makeReply(req.query, { aa: true, authority: [soaRecord(this.cfg, zone)] }));
    const reply = makeReply(req.query, { aa: true, tc: res.tc ?? false, answer: res.answer, additional: res.additional ?? [] });
    return this.#keep(req, keep && !reply.tc, reply);
  }

  /** An answer made from the synced index alone (`keep`) is kept until the index changes. */
  #keep(req: Request, keep: boolean, reply: Message): Reply {
    return keep && this.cfg.index.synced ? this.#kept.offer(req, reply) : reply;
  }

  #lookup(name: string, owner: string, qtype: string, zone: string, chain: readonly ResourceRecord[]): Result | Promise<Result> {
    const { cfg } = this;
    switch (qtype) {
      case 'A':
      case 'AAAA':
        return this.#address(name, owner, qtype, zone, chain);
      case 'SRV': {
        const found = find(cfg, name, zone, true);
        if (found.t === 'nx') return NXDOMAIN;
        return srvRecords(found, owner, zone, cfg.ttl);
      }
      case 'TXT':
        if (name === (zone === '' ? 'dns-version' : `dns-version.${zone}`)) {
          return { answer: [{ name: owner, ttl: 28800, type: 'TXT', data: [DNS_SCHEMA_VERSION] }] };
        }
        return this.#exists(name, zone);
      case 'CNAME': {
        const found = find(cfg, name, zone, false);
        if (found.t === 'nx') return NXDOMAIN;
        if (found.t !== 'external') return NODATA;
        return { answer: [{ name: owner, ttl: cfg.ttl, type: 'CNAME', data: found.entry.externalName }] };
      }
      case 'PTR': {
        const targets = ptrTargets(cfg, name);
        if (targets === undefined) {
          // A forward name (an ExternalName service's too): CoreDNS's Reverse keeps only Records' error.
          return this.#exists(name, zone);
        }
        if (targets.length === 0) return NXDOMAIN;
        return { answer: targets.map((t) => ({ name: owner, ttl: cfg.ttl, type: 'PTR', data: t })) };
      }
      case 'SOA':
        // CoreDNS's handler answers SOA at the apex only; below it, NODATA for any name (SOA in authority).
        return name === zone ? { answer: [soaRecord(cfg, zone)] } : NODATA;
      case 'NS':
        if (name === zone) return nsRecords(cfg, owner, zone);
        return this.#exists(name, zone);
      default:
        return this.#exists(name, zone);
    }
  }

  /** NODATA if the name exists (for A), else NXDOMAIN: CoreDNS's "fake A lookup". */
  #exists(name: string, zone: string): Result {
    return find(this.cfg, name, zone, false).t === 'nx' ? NXDOMAIN : NODATA;
  }

  #address(name: string, owner: string, qtype: string, zone: string, chain: readonly ResourceRecord[]): Result | Promise<Result> {
    const found = name === zone ? ({ t: 'empty' } as Found) : find(this.cfg, name, zone, false);
    if (found.t === 'nx') return NXDOMAIN;
    if (found.t !== 'external') return { answer: addressRecords(found, owner, qtype === 'AAAA', this.cfg.ttl) };
    const target = found.entry.externalName;
    // x CNAME x is a loop; a long chain is cut short, as CoreDNS does.
    if (target === name || chain.length >= MAX_CHAIN - 1) return NODATA;
    const cname: ResourceRecord = { name: owner, ttl: this.cfg.ttl, type: 'CNAME', data: target };
    if (chain.some((r) => r.type === 'CNAME' && r.name.toLowerCase() === name && r.data === target)) return NODATA;
    if (isInZone(target, zone)) {
      const rest = this.#lookup(target, target, qtype, zone, [...chain, cname]);
      const join = (r: Result): Result => (r.answer && r.answer.length > 0 ? { answer: [cname, ...r.answer], tc: r.tc ?? false } : NODATA);
      return rest instanceof Promise ? rest.then(join) : join(rest);
    }
    return this.#upstream(cname, target, qtype);
  }

  /** An out-of-zone target, resolved through the whole server (forward, usually); TC is carried over. */
  async #upstream(cname: ResourceRecord, target: string, qtype: string): Promise<Result> {
    const depth = chainDepth.getStore() ?? 0;
    if (depth >= MAX_CHAIN) return NODATA;
    try {
      const reply = await chainDepth.run(depth + 1, () => this.cfg.resolve(makeQuery(target, qtype)));
      const m = messageOf(reply);
      return { answer: [cname, ...m.answer], tc: m.tc };
    } catch {
      // CoreDNS drops the CNAME when the upstream lookup fails: the answer is NODATA.
      return NODATA;
    }
  }
}

/** A client address as pods carry it: IPv4 from a dual-stack socket's `::ffff:a.b.c.d`, IPv6 canonical. */
function clientIP(address: string): string {
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return canonicalIP(address) ?? address;
}
