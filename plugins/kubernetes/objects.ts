// The slices of Kubernetes objects the plugin reads, and trimming to those slices: informer caches and the
// index keep only the trimmed objects, which is most of what keeps memory near CoreDNS's sizing.
import { endpointName } from './names.js';

export interface ObjectMeta {
  name: string;
  namespace?: string;
  resourceVersion?: string;
  labels?: Record<string, string>;
}

export interface ServicePort {
  name?: string;
  port: number;
  protocol?: string;
}

export interface KService {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  spec: {
    type?: string;
    clusterIP?: string;
    clusterIPs?: string[];
    externalName?: string;
    ports?: ServicePort[];
    /**
     * Trimmed form (for k8s_external): spec.externalIPs, then each load-balancer ingress's IP or else its
     * hostname, as CoreDNS's object.Service.ExternalIPs has them. Absent when there are none.
     */
    externalIPs?: string[];
  };
}

export interface KEndpoint {
  addresses: string[];
  conditions?: { ready?: boolean | null };
  hostname?: string;
  nodeName?: string;
  targetRef?: { kind?: string; name?: string };
}

export interface KEndpointSlice {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  addressType?: string;
  endpoints?: KEndpoint[] | null;
  ports?: ServicePort[] | null;
  /** Trimmed form: the ready addresses only, flattened (an object per endpoint costs ~80 bytes more). */
  ips?: string[];
  /** Trimmed form, parallel to `ips` when any endpoint has one: its hostname (or pod name), '' for none. */
  names?: string[];
  /** Trimmed form: the endpoints.kubernetes.io/last-change-trigger-time annotation, in ms since the epoch. */
  triggerTime?: number;
}

export const LAST_CHANGE_TRIGGER_TIME = 'endpoints.kubernetes.io/last-change-trigger-time';

export interface KNamespace {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface KPod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  /** Trimmed form: set only when true (autopath never rewrites for a pod on the host's network). */
  hostNetwork?: boolean;
  status?: { podIP?: string; podIPs?: { ip: string }[] };
}

/** Phases CoreDNS's pod watch leaves out (its field selector): such a pod keeps no addresses here. */
const GONE_PHASES = new Set(['Succeeded', 'Failed', 'Unknown']);

export type KObject = KService | KEndpointSlice | KNamespace | KPod;
export type ResourceKind = 'services' | 'endpointslices' | 'namespaces' | 'pods';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

// Loose input: JSON from the API server or YAML from disk.
type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose => (v !== null && typeof v === 'object' ? (v as Loose) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

/** What trimming keeps beyond the answers' needs. */
export interface TrimOptions {
  /** Keep endpoints' pod names (`endpoint_pod_names`). */
  readonly podNames?: boolean;
}

/** Name, namespace, resourceVersion (informers compare it), and only the one label the index reads. */
function trimMeta(m: unknown, keepLabel?: string): ObjectMeta {
  const meta = obj(m);
  const out: ObjectMeta = { name: str(meta.name) ?? '' };
  const ns = str(meta.namespace);
  if (ns) out.namespace = ns;
  const rv = str(meta.resourceVersion);
  if (rv) out.resourceVersion = rv;
  const value = keepLabel ? str(obj(meta.labels)[keepLabel]) : undefined;
  if (value !== undefined) out.labels = { [keepLabel!]: value };
  return out;
}

function trimPorts(v: unknown): ServicePort[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  const out: ServicePort[] = [];
  for (const p of v) {
    const port = obj(p);
    // An EndpointSlice port without a number means "all ports": nothing an SRV record can name.
    if (!Number.isInteger(port.port)) continue;
    const one: ServicePort = { port: port.port as number };
    if (str(port.name)) one.name = str(port.name);
    one.protocol = str(port.protocol) ?? 'TCP';
    out.push(one);
  }
  return out.length > 0 ? out : undefined;
}

export function trimService(raw: unknown): KService {
  const o = obj(raw);
  const spec = obj(o.spec);
  const out: KService = { metadata: trimMeta(o.metadata), spec: {} };
  if (str(spec.type)) out.spec.type = str(spec.type);
  if (str(spec.clusterIP)) out.spec.clusterIP = str(spec.clusterIP);
  if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) out.spec.clusterIPs = spec.clusterIPs.filter((x): x is string => typeof x === 'string');
  if (str(spec.externalName)) out.spec.externalName = str(spec.externalName);
  const ports = trimPorts(spec.ports);
  if (ports) out.spec.ports = ports;
  const external = Array.isArray(spec.externalIPs) ? spec.externalIPs.filter((x): x is string => typeof x === 'string' && x !== '') : [];
  const ingress = obj(obj(o.status).loadBalancer).ingress;
  for (const lb of Array.isArray(ingress) ? ingress.map(obj) : []) {
    const addr = str(lb.ip) || str(lb.hostname);
    if (addr) external.push(addr);
  }
  if (external.length > 0) out.spec.externalIPs = external;
  return out;
}

export function trimEndpointSlice(raw: unknown, opts: TrimOptions = {}): KEndpointSlice {
  const o = obj(raw);
  const out: KEndpointSlice = { metadata: trimMeta(o.metadata, SERVICE_NAME_LABEL), ips: [] };
  if (str(o.addressType)) out.addressType = str(o.addressType);
  const names: string[] = [];
  let named = false;
  for (const e of Array.isArray(o.endpoints) ? o.endpoints.map(obj) : []) {
    // Only `ready` is read (as CoreDNS does): unset counts as ready; not-ready endpoints give no records.
    if (obj(e.conditions).ready === false || !Array.isArray(e.addresses)) continue;
    const name = endpointName(str(e.hostname), str(obj(e.targetRef).name), opts.podNames === true);
    for (const a of e.addresses) {
      if (typeof a !== 'string') continue;
      out.ips!.push(a);
      names.push(name);
      named ||= name !== '';
    }
  }
  if (named) out.names = names;
  const ports = trimPorts(o.ports);
  if (ports) out.ports = ports;
  const trigger = Date.parse(str(obj(obj(o.metadata).annotations)[LAST_CHANGE_TRIGGER_TIME]) ?? '');
  if (Number.isFinite(trigger)) out.triggerTime = trigger;
  return out;
}

export function trimNamespace(raw: unknown): KNamespace {
  return { metadata: trimMeta(obj(raw).metadata) };
}

export function trimPod(raw: unknown): KPod {
  const o = obj(raw);
  const status = obj(o.status);
  const out: KPod = { metadata: trimMeta(o.metadata) };
  if (obj(o.spec).hostNetwork === true) out.hostNetwork = true;
  // CoreDNS's ToPod: a terminating pod (deletionTimestamp set) is ignored, as are pods that are done.
  if (obj(o.metadata).deletionTimestamp || GONE_PHASES.has(str(status.phase) ?? '')) return out;
  const ips: { ip: string }[] = [];
  if (Array.isArray(status.podIPs)) for (const p of status.podIPs) if (str(obj(p).ip)) ips.push({ ip: str(obj(p).ip)! });
  if (ips.length === 0 && str(status.podIP)) ips.push({ ip: str(status.podIP)! });
  if (ips.length > 0) out.status = { podIPs: ips };
  return out;
}

/** Trimming per resource; labels are dropped (selectors are applied before trimming). */
export const TRIM: Record<ResourceKind, (raw: unknown, opts?: TrimOptions) => KObject> = {
  services: trimService,
  endpointslices: trimEndpointSlice,
  namespaces: trimNamespace,
  pods: trimPod,
};

/** The index key of a namespaced object: `name.namespace`, as CoreDNS keys services. */
export function objectKey(meta: ObjectMeta): string {
  return meta.namespace ? `${meta.name}.${meta.namespace}` : meta.name;
}
