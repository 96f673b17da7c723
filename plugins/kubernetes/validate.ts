// The shape check every object passes before it reaches an informer cache or the index: the fields the
// plugin reads must have the types and bounds Kubernetes gives them. Fields the plugin never reads are not
// looked at. An object that fails is skipped whole, so the index is never left holding half of it.
import { isIP } from 'node:net';
import { LAST_CHANGE_TRIGGER_TIME, SERVICE_NAME_LABEL, type ResourceKind } from './objects.js';

/** A DNS-1123 label (Service and Namespace names, endpoint hostnames). */
const LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
/** A DNS-1123 subdomain (other object names), checked for length apart. */
const SUBDOMAIN = /^[a-z0-9]([-a-z0-9.]*[a-z0-9])?$/;
/** An ExternalName target: a DNS name, any case, optional trailing dot. */
const DNS_NAME = /^(?=.{1,254}$)([A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)(\.[A-Za-z0-9_]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?)*\.?$/;
const MAX_SHORT = 63;

type Loose = Record<string, unknown>;
const isObj = (v: unknown): v is Loose => v !== null && typeof v === 'object' && !Array.isArray(v);
const absent = (v: unknown): boolean => v === undefined || v === null;

/** Thrown inside the check only; checkObject returns its message. */
class Problem extends Error {}
const fail = (path: string, what: string): never => {
  throw new Problem(`${path}: ${what}`);
};

function optString(v: unknown, path: string, max = MAX_SHORT): string | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'string') fail(path, `expected a string, got ${typeName(v)}`);
  if ((v as string).length > max) fail(path, `longer than ${max} characters`);
  return v as string;
}

function optArray(v: unknown, path: string): unknown[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) fail(path, `expected a list, got ${typeName(v)}`);
  return v as unknown[];
}

function optObject(v: unknown, path: string): Loose {
  if (absent(v)) return {};
  if (!isObj(v)) fail(path, `expected an object, got ${typeName(v)}`);
  return v as Loose;
}

function ip(v: unknown, path: string): void {
  if (typeof v !== 'string' || v.length > 45 || isIP(v) === 0) fail(path, `not an IP address: ${preview(v)}`);
}

function metadata(v: unknown, kind: ResourceKind): void {
  if (!isObj(v)) fail('metadata', `expected an object, got ${typeName(v)}`);
  const m = v as Loose;
  const labelNamed = kind === 'services' || kind === 'namespaces';
  const name = m.name;
  if (typeof name !== 'string') fail('metadata.name', `expected a string, got ${typeName(name)}`);
  if (labelNamed ? !LABEL.test(name as string) : (name as string).length > 253 || !SUBDOMAIN.test(name as string)) {
    fail('metadata.name', `not a DNS-1123 ${labelNamed ? 'label' : 'subdomain'}: ${preview(name)}`);
  }
  if (kind !== 'namespaces' && !absent(m.namespace) && (typeof m.namespace !== 'string' || !LABEL.test(m.namespace))) {
    fail('metadata.namespace', `not a DNS-1123 label: ${preview(m.namespace)}`);
  }
  optString(m.resourceVersion, 'metadata.resourceVersion', 64);
  const labels = optObject(m.labels, 'metadata.labels');
  for (const [k, value] of Object.entries(labels)) optString(value, `metadata.labels[${preview(k)}]`);
  const owner = labels[SERVICE_NAME_LABEL];
  if (kind === 'endpointslices' && owner !== undefined && !LABEL.test(owner as string)) fail(`metadata.labels[${SERVICE_NAME_LABEL}]`, `not a Service name: ${preview(owner)}`);
  optString(optObject(m.annotations, 'metadata.annotations')[LAST_CHANGE_TRIGGER_TIME], `metadata.annotations[${LAST_CHANGE_TRIGGER_TIME}]`);
}

/** Service ports need a number; an EndpointSlice port without one means "all ports" and is dropped by trimming. */
function ports(v: unknown, path: string, needPort: boolean): void {
  optArray(v, path).forEach((p, i) => {
    const at = `${path}[${i}]`;
    if (!isObj(p)) fail(at, `expected an object, got ${typeName(p)}`);
    const port = (p as Loose).port;
    if (!(absent(port) && !needPort) && (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)) fail(`${at}.port`, `not a port number: ${preview(port)}`);
    optString((p as Loose).name, `${at}.name`);
    optString((p as Loose).protocol, `${at}.protocol`, 16);
  });
}

function service(o: Loose): void {
  if (!isObj(o.spec)) fail('spec', `expected an object, got ${typeName(o.spec)}`);
  const spec = o.spec as Loose;
  const type = optString(spec.type, 'spec.type', 32);
  const clusterIP = (v: unknown, path: string) => v === 'None' || v === '' || ip(v, path);
  if (!absent(spec.clusterIP)) clusterIP(spec.clusterIP, 'spec.clusterIP');
  optArray(spec.clusterIPs, 'spec.clusterIPs').forEach((v, i) => clusterIP(v, `spec.clusterIPs[${i}]`));
  const external = optString(spec.externalName, 'spec.externalName', 254);
  if (external !== undefined && !DNS_NAME.test(external)) fail('spec.externalName', `not a DNS name: ${preview(external)}`);
  if (type === 'ExternalName' && external === undefined) fail('spec.externalName', 'missing for an ExternalName Service');
  ports(spec.ports, 'spec.ports', true);
}

function endpointSlice(o: Loose): void {
  optString(o.addressType, 'addressType', 16);
  optArray(o.endpoints, 'endpoints').forEach((e, i) => {
    const at = `endpoints[${i}]`;
    if (!isObj(e)) fail(at, `expected an object, got ${typeName(e)}`);
    const ep = e as Loose;
    // Kubernetes requires addresses (1 to 100 of them); answers iterate them.
    if (!Array.isArray(ep.addresses)) fail(`${at}.addresses`, `expected a list, got ${typeName(ep.addresses)}`);
    (ep.addresses as unknown[]).forEach((a, j) => ip(a, `${at}.addresses[${j}]`));
    const ready = optObject(ep.conditions, `${at}.conditions`).ready;
    if (!absent(ready) && typeof ready !== 'boolean') fail(`${at}.conditions.ready`, `expected a boolean, got ${typeName(ready)}`);
    const hostname = optString(ep.hostname, `${at}.hostname`);
    if (hostname !== undefined && !LABEL.test(hostname)) fail(`${at}.hostname`, `not a DNS-1123 label: ${preview(hostname)}`);
    optString(optObject(ep.targetRef, `${at}.targetRef`).name, `${at}.targetRef.name`, 253);
  });
  // The trimmed form the index stores: ready addresses and their names, side by side.
  const ips = optArray(o.ips, 'ips');
  ips.forEach((a, i) => ip(a, `ips[${i}]`));
  if (!absent(o.names)) {
    const names = optArray(o.names, 'names');
    if (names.length !== ips.length) fail('names', 'not as long as ips');
    names.forEach((n, i) => {
      // Pod names (endpoint_pod_names) are subdomains, so only the label length is held to.
      optString(n, `names[${i}]`);
    });
  }
  if (!absent(o.triggerTime) && !Number.isFinite(o.triggerTime)) fail('triggerTime', `not a number: ${preview(o.triggerTime)}`);
  ports(o.ports, 'ports', false);
}

function pod(o: Loose): void {
  const status = optObject(o.status, 'status');
  if (!absent(status.podIP) && status.podIP !== '') ip(status.podIP, 'status.podIP');
  optArray(status.podIPs, 'status.podIPs').forEach((p, i) => {
    if (!isObj(p)) fail(`status.podIPs[${i}]`, `expected an object, got ${typeName(p)}`);
    ip((p as Loose).ip, `status.podIPs[${i}].ip`);
  });
}

/**
 * What is wrong with an object of `kind` (as the API serves it, or trimmed), or undefined if nothing is.
 * `identityOnly`: a deletion, where only the name and namespace are read.
 */
export function checkObject(kind: ResourceKind, raw: unknown, identityOnly = false): string | undefined {
  try {
    if (!isObj(raw)) fail('object', `expected an object, got ${typeName(raw)}`);
    const o = raw as Loose;
    metadata(o.metadata, kind);
    if (identityOnly) return undefined;
    if (kind === 'services') service(o);
    else if (kind === 'endpointslices') endpointSlice(o);
    else if (kind === 'pods') pod(o);
    return undefined;
  } catch (err) {
    if (err instanceof Problem) return err.message;
    // A getter or a Proxy in a hand-built object: still not something to index.
    return `unreadable: ${(err as Error).message}`;
  }
}

export function typeName(v: unknown): string {
  return v === null ? 'null' : Array.isArray(v) ? 'a list' : typeof v;
}

/** A value short enough for a log line. */
export function preview(v: unknown): string {
  let s: string;
  try {
    s = typeof v === 'string' ? JSON.stringify(v) : String(JSON.stringify(v) ?? typeof v);
  } catch {
    s = typeName(v);
  }
  return s.length > 40 ? `${s.slice(0, 37)}...` : s;
}
