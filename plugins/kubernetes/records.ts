// A Service and its EndpointSlices turned into ready answers (ServiceEntry), rebuilt for that one Service
// on each event; and the per-query item lists CoreDNS's findServices yields (for SRV and `_port._proto`).
// The index keeps these compact records, not the objects: a Service's facts, each slice's ready addresses
// with their names and ports, arrays at their exact length, port lists and namespaces shared.
import { isIPv6 } from 'node:net';
import { canonicalIP } from '../../core/ip.js';
import { dashedIP, endpointName, podNameIP } from './names.js';
import type { KEndpointSlice, KService, ServicePort } from './objects.js';

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

/** One name's addresses: a single IP (the common case, kept as a bare string to save memory) or several. */
export type Addrs = string | string[];

/** What the index keeps of a Service. */
export interface ServiceFacts {
  /** `name.namespace` */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly kind: ServiceKind;
  /** Canonical cluster IPs (ClusterIP kind). */
  readonly clusterIPs: readonly string[];
  readonly externalName: string;
  /** spec.ports (empty when there are none). */
  readonly ports: readonly ServicePort[];
  /** spec.externalIPs (trimmed: with the load balancers' addresses), empty when there are none. */
  readonly externalIPs: readonly string[];
}

/** What the index keeps of an EndpointSlice: its ready addresses, side by side with their names. */
export interface SliceRecord {
  /** `name/namespace` of the slice. */
  readonly key: string;
  /** Canonical ready addresses. */
  readonly ips: readonly string[];
  /** Parallel to `ips` when any address has one: the hostname (or pod name), lower-case; '' for none. */
  readonly names: readonly string[] | undefined;
  /** The slice's ports, or the portless sentinel. */
  readonly ports: readonly ServicePort[];
}

export interface ServiceEntry extends ServiceFacts {
  /** The Service's slices (merged IPv4 and IPv6 ones), as stored in the index. */
  readonly slices: readonly SliceRecord[];
  /** Answers for the bare service name: the cluster IPs, or (headless) the ready endpoint IPs, de-duplicated. */
  readonly v4: readonly string[];
  readonly v6: readonly string[];
  /**
   * Ready endpoint addresses by label, for labels that are names (hostname, pod name). A dashed-address
   * label (`10-0-0-1`) is not stored: it is read back into its address (memory: most endpoints have one).
   */
  readonly byLabel: ReadonlyMap<string, Addrs>;
  /** Ready endpoint addresses, de-duplicated (the reverse map's share). */
  readonly endpointIPs: readonly string[];
  /** Number of ready endpoint addresses (for `ignore empty_service`). */
  readonly ready: number;
}

/** What CoreDNS calls a msg.Service: one (address, port) pair, named by the service or an endpoint label. */
export interface Item {
  readonly ip: string;
  /** -1: the sentinel of a portless service or slice. */
  readonly port: number;
  /** '' for the service name itself, else the endpoint label. */
  readonly label: string;
}

const SENTINEL: readonly ServicePort[] = [{ port: -1, name: '', protocol: '' }];
const NONE: readonly string[] = Object.freeze([]);
const NO_PORTS: readonly ServicePort[] = Object.freeze([]);
const NO_LABELS: ReadonlyMap<string, Addrs> = new Map();

/**
 * Values many records share (namespaces, port lists), one copy each. Sharing is only a saving: past
 * MAX_SHARED distinct values the pool starts over rather than grow with every value a cluster ever had.
 */
export class Interner {
  static readonly MAX_SHARED = 4096;
  readonly #strings = new Map<string, string>();
  readonly #ports = new Map<string, readonly ServicePort[]>();

  string(s: string): string {
    const have = this.#strings.get(s);
    if (have !== undefined) return have;
    if (this.#strings.size >= Interner.MAX_SHARED) this.#strings.clear();
    this.#strings.set(s, s);
    return s;
  }

  /** A copy of the list at its exact length, shared with every equal list. */
  ports(ports: readonly ServicePort[]): readonly ServicePort[] {
    if (ports.length === 0) return NO_PORTS;
    const key = JSON.stringify(ports);
    const have = this.#ports.get(key);
    if (have !== undefined) return have;
    if (this.#ports.size >= Interner.MAX_SHARED) this.#ports.clear();
    const copy = ports.map((p) => ({ ...p }));
    this.#ports.set(key, copy);
    return copy;
  }
}

/** An array at its exact length: one grown by push keeps spare capacity (36 slots for one item). */
const exact = <T>(a: T[]): T[] => (a.length === 0 ? (NONE as T[]) : a.slice());

export function serviceKind(svc: KService): ServiceKind {
  if (svc.spec.type === 'ExternalName') return 'ExternalName';
  const first = svc.spec.clusterIPs?.[0] ?? svc.spec.clusterIP;
  return first === 'None' ? 'Headless' : 'ClusterIP';
}

/** A Service (as the API serves it, or trimmed) as the index keeps it. */
export function serviceFacts(svc: KService, pool: Interner): ServiceFacts {
  const kind = serviceKind(svc);
  const namespace = pool.string(svc.metadata.namespace ?? 'default');
  const clusterIPs: string[] = [];
  if (kind === 'ClusterIP') {
    for (const raw of svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : [])) {
      const ip = canonicalIP(raw);
      if (ip !== undefined && !clusterIPs.includes(ip)) clusterIPs.push(ip);
    }
  }
  return {
    key: `${svc.metadata.name}.${namespace}`,
    name: svc.metadata.name,
    namespace,
    kind,
    clusterIPs: exact(clusterIPs),
    externalName: kind === 'ExternalName' ? (svc.spec.externalName ?? '').toLowerCase().replace(/\.$/, '') : '',
    ports: pool.ports(svc.spec.ports ?? NO_PORTS),
    externalIPs: svc.spec.externalIPs && svc.spec.externalIPs.length > 0 ? svc.spec.externalIPs.slice() : NONE,
  };
}

/**
 * An EndpointSlice (as the API serves it, or trimmed) as the index keeps it: the ready addresses, canonical,
 * each with the name it is known by (hostname, else with `podNames` the pod name) when it has one.
 */
export function sliceRecord(slice: KEndpointSlice, key: string, podNames: boolean, pool: Interner): SliceRecord {
  const ips: string[] = [];
  const names: string[] = [];
  let named = false;
  const add = (raw: string, name: string | undefined): void => {
    const ip = canonicalIP(raw);
    if (ip === undefined) return;
    ips.push(ip);
    names.push(name ? name.toLowerCase() : '');
    named ||= !!name;
  };
  if (slice.ips) {
    for (let i = 0; i < slice.ips.length; i++) add(slice.ips[i]!, slice.names?.[i]);
  } else {
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      const name = endpointName(ep.hostname, ep.targetRef?.name, podNames);
      for (const raw of ep.addresses) add(raw, name);
    }
  }
  return {
    key,
    ips: exact(ips),
    names: named ? names : undefined,
    ports: slice.ports && slice.ports.length > 0 ? pool.ports(slice.ports) : SENTINEL,
  };
}

/** Each ready endpoint address of the slices, with its label and the slice's ports. */
export function* readyAddresses(slices: readonly SliceRecord[]): Generator<{ ip: string; label: string; ports: readonly ServicePort[] }> {
  for (const slice of slices) {
    for (let i = 0; i < slice.ips.length; i++) {
      const ip = slice.ips[i]!;
      yield { ip, label: (slice.names?.[i] || dashedIP(ip)).toLowerCase(), ports: slice.ports };
    }
  }
}

function addTo(map: Map<string, Addrs>, label: string, ip: string): void {
  const cur = map.get(label);
  if (cur === undefined) map.set(label, ip);
  else if (typeof cur === 'string') {
    if (cur !== ip) map.set(label, [cur, ip]);
  } else if (!cur.includes(ip)) cur.push(ip);
}

export function buildEntry(facts: ServiceFacts, slices: readonly SliceRecord[]): ServiceEntry {
  const byLabel = new Map<string, Addrs>();
  const seen = new Set<string>();
  let ready = 0;
  for (const a of readyAddresses(slices)) {
    ready++;
    if (a.label !== dashedIP(a.ip)) addTo(byLabel, a.label, a.ip);
    seen.add(a.ip);
  }
  // One slice without repeats (the common case): its own list is the de-duplicated one.
  const endpointIPs = slices.length === 1 && seen.size === slices[0]!.ips.length ? slices[0]!.ips : seen.size === 0 ? NONE : [...seen];
  const bare = facts.kind === 'Headless' ? endpointIPs : facts.clusterIPs;
  return {
    key: facts.key,
    name: facts.name,
    namespace: facts.namespace,
    kind: facts.kind,
    clusterIPs: facts.clusterIPs,
    externalName: facts.externalName,
    ports: facts.ports,
    externalIPs: facts.externalIPs,
    slices,
    v4: onlyFamily(bare, false),
    v6: onlyFamily(bare, true),
    byLabel: byLabel.size > 0 ? byLabel : NO_LABELS,
    endpointIPs,
    ready,
  };
}

/** The addresses of one family: the list itself when all are (no copy), else a new one. */
function onlyFamily(ips: readonly string[], v6: boolean): readonly string[] {
  let n = 0;
  for (const ip of ips) if (isIPv6(ip) === v6) n++;
  if (n === 0) return NONE;
  return n === ips.length ? ips : ips.filter((ip) => isIPv6(ip) === v6);
}

/** The ready addresses of one endpoint label, named or dashed. */
export function labelAddrs(e: ServiceEntry, label: string, podNames: boolean): Addrs | undefined {
  const named = e.byLabel.get(label);
  if (named !== undefined) return named;
  const ip = podNameIP(label);
  // The dashed name exists only for an address whose endpoint has no hostname (or pod name) of its own.
  return ip !== undefined && e.endpointIPs.includes(ip) && labelsForIP(e, ip, podNames).includes(label) ? ip : undefined;
}

export function addrsOf(a: Addrs | undefined, v6: boolean): string[] {
  if (a === undefined) return [];
  const list = typeof a === 'string' ? [a] : a;
  return list.filter((ip) => isIPv6(ip) === v6);
}

const matches = (want: string, have: string | undefined): boolean => want === '' || want === (have ?? '').toLowerCase();

/**
 * The items a query for `[endpoint.]svc` or `_port._proto.svc` yields, as CoreDNS's findServices builds
 * them (before de-duplication: SRV weights count them all). Undefined when the name does not exist.
 */
export function serviceItems(
  e: ServiceEntry, r: { endpoint: string; port: string; protocol: string }, podNames: boolean,
): Item[] | undefined {
  const items: Item[] = [];
  let found = false;
  if (e.kind === 'Headless' || r.endpoint !== '') {
    for (const a of readyAddresses(e.slices)) {
      if (r.endpoint !== '' && a.label !== r.endpoint) continue;
      for (const p of a.ports) {
        if (!matches(r.port, p.name) || !matches(r.protocol, p.protocol)) continue;
        found = true;
        items.push({ ip: a.ip, port: p.port, label: a.label });
      }
    }
    return found ? items : undefined;
  }
  const ports = e.ports.length > 0 ? e.ports : SENTINEL;
  for (const p of ports) {
    if (!matches(r.port, p.name) || !matches(r.protocol, p.protocol)) continue;
    found = true;
    for (const ip of e.clusterIPs) items.push({ ip, port: p.port, label: '' });
  }
  return found ? items : undefined;
}

/** The endpoint labels under which `ip` is a ready address of this Service (for PTR). */
export function labelsForIP(e: ServiceEntry, ip: string, podNames: boolean): string[] {
  const labels: string[] = [];
  for (const a of readyAddresses(e.slices)) if (a.ip === ip && !labels.includes(a.label)) labels.push(a.label);
  return labels;
}

/** A read-only view of a Service for consumers outside the plugin (the etcd helper's kube2sky sync). */
export interface ServiceView {
  readonly name: string;
  readonly namespace: string;
  readonly kind: ServiceKind;
  readonly clusterIPs: readonly string[];
  readonly externalName: string;
  readonly ports: readonly ServicePort[];
  /** Ready endpoint addresses, one row per address. */
  readonly endpoints: readonly { readonly ip: string; readonly label: string; readonly ports: readonly ServicePort[] }[];
}

export function viewOf(e: ServiceEntry, podNames: boolean): ServiceView {
  return {
    name: e.name,
    namespace: e.namespace,
    kind: e.kind,
    clusterIPs: e.clusterIPs,
    externalName: e.externalName,
    ports: e.ports,
    endpoints: [...readyAddresses(e.slices)].map((a) => ({ ...a, ports: a.ports === SENTINEL ? [] : a.ports })),
  };
}
