// A Service and its EndpointSlices turned into ready answers (ServiceEntry), rebuilt for that one Service
// on each event; and the per-query item lists CoreDNS's findServices yields (for SRV and `_port._proto`).
import { isIPv6 } from 'node:net';
import { canonicalIP } from '../../core/ip.js';
import { dashedIP, endpointLabel, podNameIP } from './names.js';
import type { KEndpointSlice, KService, ServicePort } from './objects.js';

export type ServiceKind = 'ClusterIP' | 'Headless' | 'ExternalName';

/** One name's addresses: a single IP (the common case, kept as a bare string to save memory) or several. */
export type Addrs = string | string[];

export interface ServiceEntry {
  /** `name.namespace` */
  readonly key: string;
  readonly name: string;
  readonly namespace: string;
  readonly kind: ServiceKind;
  readonly service: KService;
  /** Canonical cluster IPs (ClusterIP kind). */
  readonly clusterIPs: readonly string[];
  readonly externalName: string;
  /** The Service's slices (merged IPv4 and IPv6 ones), as stored in the index. */
  readonly slices: readonly KEndpointSlice[];
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

export function serviceKind(svc: KService): ServiceKind {
  if (svc.spec.type === 'ExternalName') return 'ExternalName';
  const first = svc.spec.clusterIPs?.[0] ?? svc.spec.clusterIP;
  return first === 'None' ? 'Headless' : 'ClusterIP';
}

/** Each ready endpoint address of the slices (trimmed or as the API serves them), with its label and the slice's ports. */
export function* readyAddresses(slices: readonly KEndpointSlice[], podNames: boolean): Generator<{ ip: string; label: string; ports: readonly ServicePort[] }> {
  for (const slice of slices) {
    const ports = slice.ports && slice.ports.length > 0 ? slice.ports : SENTINEL;
    if (slice.ips) {
      for (let i = 0; i < slice.ips.length; i++) {
        const ip = canonicalIP(slice.ips[i]!);
        if (ip !== undefined) yield { ip, label: (slice.names?.[i] || dashedIP(ip)).toLowerCase(), ports };
      }
      continue;
    }
    for (const ep of slice.endpoints ?? []) {
      if (ep.conditions?.ready === false) continue;
      for (const raw of ep.addresses) {
        const ip = canonicalIP(raw);
        if (ip === undefined) continue;
        yield { ip, label: endpointLabel(ip, ep.hostname, ep.targetRef?.name, podNames).toLowerCase(), ports };
      }
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

export function buildEntry(svc: KService, slices: readonly KEndpointSlice[], podNames: boolean): ServiceEntry {
  const kind = serviceKind(svc);
  const namespace = svc.metadata.namespace ?? 'default';
  const clusterIPs: string[] = [];
  if (kind === 'ClusterIP') {
    for (const raw of svc.spec.clusterIPs ?? (svc.spec.clusterIP ? [svc.spec.clusterIP] : [])) {
      const ip = canonicalIP(raw);
      if (ip !== undefined && !clusterIPs.includes(ip)) clusterIPs.push(ip);
    }
  }
  const byLabel = new Map<string, Addrs>();
  const seen = new Set<string>();
  let ready = 0;
  for (const a of readyAddresses(slices, podNames)) {
    ready++;
    if (a.label !== dashedIP(a.ip)) addTo(byLabel, a.label, a.ip);
    seen.add(a.ip);
  }
  const endpointIPs = [...seen];
  const bare = kind === 'Headless' ? endpointIPs : clusterIPs;
  return {
    key: `${svc.metadata.name}.${namespace}`,
    name: svc.metadata.name,
    namespace,
    kind,
    service: svc,
    clusterIPs,
    externalName: kind === 'ExternalName' ? (svc.spec.externalName ?? '').toLowerCase().replace(/\.$/, '') : '',
    slices,
    v4: onlyFamily(bare, false),
    v6: onlyFamily(bare, true),
    byLabel: byLabel.size > 0 ? byLabel : NO_LABELS,
    endpointIPs,
    ready,
  };
}

const NONE: readonly string[] = Object.freeze([]);
const NO_LABELS: ReadonlyMap<string, Addrs> = new Map();

function onlyFamily(ips: readonly string[], v6: boolean): readonly string[] {
  const out = ips.filter((ip) => isIPv6(ip) === v6);
  return out.length === 0 ? NONE : out;
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
    for (const a of readyAddresses(e.slices, podNames)) {
      if (r.endpoint !== '' && a.label !== r.endpoint) continue;
      for (const p of a.ports) {
        if (!matches(r.port, p.name) || !matches(r.protocol, p.protocol)) continue;
        found = true;
        items.push({ ip: a.ip, port: p.port, label: a.label });
      }
    }
    return found ? items : undefined;
  }
  const ports = e.service.spec.ports && e.service.spec.ports.length > 0 ? e.service.spec.ports : SENTINEL;
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
  for (const a of readyAddresses(e.slices, podNames)) if (a.ip === ip && !labels.includes(a.label)) labels.push(a.label);
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
    ports: e.service.spec.ports ?? [],
    endpoints: [...readyAddresses(e.slices, podNames)].map((a) => ({ ...a, ports: a.ports === SENTINEL ? [] : a.ports })),
  };
}
