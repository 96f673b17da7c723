// From a query name to records, the way CoreDNS's kubernetes backend decides them: what a name is (find),
// then the records of each type built from the index's ready entries. Pure: no I/O, no reply objects.
import { isIPv6 } from 'node:net';
import { ipFromReverseName } from '../../core/ip.js';
import type { ResourceRecord, SOARecord } from '../../core/message.js';
import { stripZone } from '../../core/zones.js';
import { parseName, podNameIP } from './names.js';
import { addrsOf, labelAddrs, labelsForIP, readyAddresses, serviceItems, type Item, type ServiceEntry } from './records.js';
import type { ServiceIndex } from './service-index.js';

export type PodMode = 'disabled' | 'insecure' | 'verified';

export interface AnswerConfig {
  readonly index: ServiceIndex;
  /** The first non-reverse zone: PTR targets live there. */
  readonly primaryZone: string;
  readonly ttl: number;
  readonly podMode: PodMode;
  /** `namespaces`: only these are exposed (undefined: all). */
  readonly namespaces: ReadonlySet<string> | undefined;
  readonly ignoreEmptyService: boolean;
  /** This server's own addresses, for NS and ns.dns.ZONE. */
  localIPs(): readonly string[];
}

/** What a name is. */
export type Found =
  | { readonly t: 'nx' }
  | { readonly t: 'empty' }
  | { readonly t: 'addrs'; readonly v4: readonly string[]; readonly v6: readonly string[] }
  | { readonly t: 'items'; readonly entry: ServiceEntry; readonly items: readonly Item[] }
  | { readonly t: 'external'; readonly entry: ServiceEntry };

const NX: Found = { t: 'nx' };
const EMPTY: Found = { t: 'empty' };

export const isReverseZone = (zone: string): boolean => zone === 'in-addr.arpa' || zone === 'ip6.arpa' || zone.endsWith('.in-addr.arpa') || zone.endsWith('.ip6.arpa');

function splitFamilies(ips: readonly string[]): { t: 'addrs'; v4: string[]; v6: string[] } {
  return { t: 'addrs', v4: ips.filter((ip) => !isIPv6(ip)), v6: ips.filter((ip) => isIPv6(ip)) };
}

export function namespaceExposed(cfg: AnswerConfig, ns: string): boolean {
  return cfg.index.hasNamespace(ns) && (cfg.namespaces === undefined || cfg.namespaces.has(ns));
}

/**
 * What `name` (lower-case, in `zone`) is. `wantItems` asks for CoreDNS's item list (SRV, and A/AAAA of
 * `_port._proto` names) instead of the precomputed addresses.
 */
export function find(cfg: AnswerConfig, name: string, zone: string, wantItems: boolean): Found {
  const rel = stripZone(name, zone);
  if (rel !== '' && isReverseZone(zone)) return NX;
  if (rel === 'ns.dns') return splitFamilies(nsAddrs(cfg, zone).map((a) => a.ip));
  const r = parseName(rel);
  if (r === 'apex') return EMPTY;
  if (r === 'invalid' || !namespaceExposed(cfg, r.namespace)) return NX;
  if (r.podOrSvc === 'pod') {
    if (cfg.podMode === 'disabled') return NX;
    if (r.service === '') return EMPTY;
    const ip = podNameIP(r.service);
    if (ip === undefined) return NX;
    if (cfg.podMode === 'verified' && !cfg.index.podExists(r.namespace, ip)) return NX;
    return splitFamilies([ip]);
  }
  if (r.service === '') return EMPTY;
  const entry = cfg.index.entry(r.service, r.namespace);
  if (!entry) return NX;
  if (cfg.ignoreEmptyService && entry.kind === 'ClusterIP' && entry.ready === 0) return NX;
  // CoreDNS's findServices: an ExternalName service has no endpoints and no `_port._proto` names.
  if (entry.kind === 'ExternalName') return r.endpoint !== '' || r.port !== '' || r.protocol !== '' ? NX : { t: 'external', entry };
  if (!wantItems && r.port === '' && r.protocol === '') {
    if (r.endpoint === '') {
      if (entry.kind === 'Headless' && entry.v4.length + entry.v6.length === 0) return NX;
      return { t: 'addrs', v4: entry.v4, v6: entry.v6 };
    }
    const a = labelAddrs(entry, r.endpoint, cfg.index.endpointPodNames);
    if (a === undefined) return NX;
    return { t: 'addrs', v4: addrsOf(a, false), v6: addrsOf(a, true) };
  }
  const items = serviceItems(entry, r, cfg.index.endpointPodNames);
  return items === undefined ? NX : { t: 'items', entry, items };
}

/** A or AAAA records for `owner` from what find() returned (not the ExternalName case). */
export function addressRecords(found: Found, owner: string, v6: boolean, ttl: number): ResourceRecord[] {
  let ips: readonly string[];
  if (found.t === 'addrs') ips = v6 ? found.v6 : found.v4;
  else if (found.t === 'items') ips = [...new Set(found.items.map((i) => i.ip))].filter((ip) => isIPv6(ip) === v6);
  else return [];
  return ips.map((ip) => (v6 ? { name: owner, ttl, type: 'AAAA', data: ip } : { name: owner, ttl, type: 'A', data: ip }));
}

function targetName(entry: ServiceEntry, label: string, zone: string): string {
  const svc = `${entry.name}.${entry.namespace}.svc.${zone}`;
  return label === '' ? svc : `${label}.${svc}`;
}

/** SRV records and their address glue; weights as CoreDNS computes them (100 / all items, before de-duplication). */
export function srvRecords(found: Found, owner: string, zone: string, ttl: number): { answer: ResourceRecord[]; additional: ResourceRecord[] } {
  const answer: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  if (found.t !== 'items') return { answer, additional };
  const weight = Math.max(1, Math.floor(100 / found.items.length));
  const seen = new Set<string>();
  for (const item of found.items) {
    if (item.port === -1) continue;
    const target = targetName(found.entry, item.label, zone);
    if (!seen.has(`${target} ${item.port}`)) {
      seen.add(`${target} ${item.port}`);
      answer.push({ name: owner, ttl, type: 'SRV', data: { priority: 0, weight, port: item.port, target } });
    }
    if (!seen.has(`${target} @${item.ip}`)) {
      seen.add(`${target} @${item.ip}`);
      additional.push(isIPv6(item.ip) ? { name: target, ttl, type: 'AAAA', data: item.ip } : { name: target, ttl, type: 'A', data: item.ip });
    }
  }
  return { answer, additional };
}

/** PTR targets of a reverse name: the first Service with that cluster IP, else every endpoint name with it. */
export function ptrTargets(cfg: AnswerConfig, name: string): string[] | undefined {
  const ip = ipFromReverseName(name);
  if (ip === undefined) return undefined;
  const visible = (e: ServiceEntry) => cfg.namespaces === undefined || cfg.namespaces.has(e.namespace);
  const svc = cfg.index.clusterIPOwners(ip).find(visible);
  if (svc) return [`${svc.name}.${svc.namespace}.svc.${cfg.primaryZone}`];
  const targets: string[] = [];
  for (const e of cfg.index.endpointOwners(ip)) {
    if (!visible(e)) continue;
    for (const label of labelsForIP(e, ip, cfg.index.endpointPodNames)) {
      const t = targetName(e, label, cfg.primaryZone);
      if (!targets.includes(t)) targets.push(t);
    }
  }
  return targets;
}

/** CoreDNS's nsAddrs: the Service whose endpoints include one of our addresses, else ns.dns.ZONE at our addresses. */
export function nsAddrs(cfg: AnswerConfig, zone: string): { name: string; ip: string }[] {
  const out: { name: string; ip: string }[] = [];
  const local = cfg.localIPs();
  for (const ip of local) {
    for (const e of cfg.index.endpointOwners(ip)) {
      if (e.kind === 'Headless') {
        for (const a of readyAddresses(e.slices)) out.push({ name: targetName(e, a.label, zone), ip: a.ip });
      } else if (e.clusterIPs[0] !== undefined) {
        out.push({ name: targetName(e, '', zone), ip: e.clusterIPs[0] });
      }
    }
  }
  if (out.length === 0) for (const ip of local) out.push({ name: `ns.dns.${zone}`, ip });
  const seen = new Set<string>();
  return out.filter((a) => !seen.has(a.ip) && seen.add(a.ip));
}

export function nsRecords(cfg: AnswerConfig, owner: string, zone: string): { answer: ResourceRecord[]; additional: ResourceRecord[] } {
  const answer: ResourceRecord[] = [];
  const additional: ResourceRecord[] = [];
  for (const a of nsAddrs(cfg, zone)) {
    if (!answer.some((r) => r.data === a.name)) answer.push({ name: owner, ttl: cfg.ttl, type: 'NS', data: a.name });
    additional.push(isIPv6(a.ip) ? { name: a.name, ttl: cfg.ttl, type: 'AAAA', data: a.ip } : { name: a.name, ttl: cfg.ttl, type: 'A', data: a.ip });
  }
  return { answer, additional };
}

export function soaRecord(cfg: AnswerConfig, zone: string): SOARecord {
  const dot = zone === '' ? '' : `.${zone}`;
  return {
    name: zone, ttl: Math.min(cfg.ttl, 300), type: 'SOA',
    data: { mname: `ns.dns${dot}`, rname: `hostmaster${dot}`, serial: cfg.index.serial, refresh: 7200, retry: 1800, expire: 86400, minimum: cfg.ttl },
  };
}
