// The slices of Kubernetes objects the plugin reads, and trimming to those slices: informer caches and the
// index keep only the trimmed objects, which is most of what keeps memory near CoreDNS's sizing.

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
}

export interface KNamespace {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
}

export interface KPod {
  apiVersion?: string;
  kind?: string;
  metadata: ObjectMeta;
  status?: { podIP?: string; podIPs?: { ip: string }[] };
}

export type KObject = KService | KEndpointSlice | KNamespace | KPod;
export type ResourceKind = 'services' | 'endpointslices' | 'namespaces' | 'pods';

/** The label that ties an EndpointSlice to its Service. */
export const SERVICE_NAME_LABEL = 'kubernetes.io/service-name';

// Loose input: JSON from the API server or YAML from disk.
type Loose = Record<string, unknown>;
const obj = (v: unknown): Loose => (v !== null && typeof v === 'object' ? (v as Loose) : {});
const str = (v: unknown): string | undefined => (typeof v === 'string' ? v : undefined);

function trimMeta(m: unknown, keepLabels: boolean): ObjectMeta {
  const meta = obj(m);
  const out: ObjectMeta = { name: str(meta.name) ?? '' };
  const ns = str(meta.namespace);
  if (ns) out.namespace = ns;
  const rv = str(meta.resourceVersion);
  if (rv) out.resourceVersion = rv;
  if (keepLabels && meta.labels && typeof meta.labels === 'object') out.labels = meta.labels as Record<string, string>;
  return out;
}

function trimPorts(v: unknown): ServicePort[] | undefined {
  if (!Array.isArray(v) || v.length === 0) return undefined;
  return v.map((p: unknown) => {
    const port = obj(p);
    const out: ServicePort = { port: Number(port.port) };
    if (str(port.name)) out.name = str(port.name);
    out.protocol = str(port.protocol) ?? 'TCP';
    return out;
  });
}

export function trimService(raw: unknown): KService {
  const o = obj(raw);
  const spec = obj(o.spec);
  const out: KService = { metadata: trimMeta(o.metadata, true), spec: {} };
  if (str(spec.type)) out.spec.type = str(spec.type);
  if (str(spec.clusterIP)) out.spec.clusterIP = str(spec.clusterIP);
  if (Array.isArray(spec.clusterIPs) && spec.clusterIPs.length > 0) out.spec.clusterIPs = spec.clusterIPs.filter((x): x is string => typeof x === 'string');
  if (str(spec.externalName)) out.spec.externalName = str(spec.externalName);
  const ports = trimPorts(spec.ports);
  if (ports) out.spec.ports = ports;
  return out;
}

function trimEndpoint(raw: unknown): KEndpoint {
  const e = obj(raw);
  const out: KEndpoint = { addresses: Array.isArray(e.addresses) ? e.addresses.filter((x): x is string => typeof x === 'string') : [] };
  const ready = obj(e.conditions).ready;
  // Only `ready` matters (CoreDNS reads nothing else); unset counts as ready, so keep just a false.
  if (ready === false) out.conditions = { ready: false };
  if (str(e.hostname)) out.hostname = str(e.hostname);
  const ref = obj(e.targetRef);
  if (str(ref.name)) out.targetRef = { name: str(ref.name)! };
  return out;
}

export function trimEndpointSlice(raw: unknown): KEndpointSlice {
  const o = obj(raw);
  const out: KEndpointSlice = { metadata: trimMeta(o.metadata, true) };
  if (str(o.addressType)) out.addressType = str(o.addressType);
  if (Array.isArray(o.endpoints)) out.endpoints = o.endpoints.map(trimEndpoint);
  const ports = trimPorts(o.ports);
  if (ports) out.ports = ports;
  return out;
}

export function trimNamespace(raw: unknown): KNamespace {
  return { metadata: trimMeta(obj(raw).metadata, true) };
}

export function trimPod(raw: unknown): KPod {
  const o = obj(raw);
  const status = obj(o.status);
  const out: KPod = { metadata: trimMeta(o.metadata, false) };
  const ips: { ip: string }[] = [];
  if (Array.isArray(status.podIPs)) for (const p of status.podIPs) if (str(obj(p).ip)) ips.push({ ip: str(obj(p).ip)! });
  if (ips.length === 0 && str(status.podIP)) ips.push({ ip: str(status.podIP)! });
  if (ips.length > 0) out.status = { podIPs: ips };
  return out;
}

export const TRIM: Record<ResourceKind, (raw: unknown) => KObject> = {
  services: trimService,
  endpointslices: trimEndpointSlice,
  namespaces: trimNamespace,
  pods: trimPod,
};

/** The index key of a namespaced object: `name.namespace`, as CoreDNS keys services. */
export function objectKey(meta: ObjectMeta): string {
  return meta.namespace ? `${meta.name}.${meta.namespace}` : meta.name;
}
