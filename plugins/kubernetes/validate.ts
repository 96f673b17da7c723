// The shape check every object passes before it reaches an informer cache or the index: the fields the
// plugin reads must have the types and bounds Kubernetes gives them. Fields the plugin never reads are not
// looked at. An object that fails is skipped whole, so the index is never left holding half of it.
import { isIP } from 'node:net';
import { LAST_CHANGE_TRIGGER_TIME, SERVICE_NAME_LABEL, TRIM, type KObject, type ResourceKind, type TrimOptions } from './objects.js';

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

/**
 * Where the check is, as path segments ('endpoints', 3, 'addresses'): pushed and popped around nested
 * values and turned into text only for a failure, so that a valid object costs no strings.
 */
const trail: (string | number)[] = [];
function fail(field: string | number | undefined, what: string): never {
  const parts = field === undefined ? trail : [...trail, field];
  const path = parts.map((p, i) => (typeof p === 'number' ? `[${p}]` : i === 0 ? p : `.${p}`)).join('') || 'object';
  throw new Problem(`${path}: ${what}`);
}

function optString(v: unknown, field: string | number, max = MAX_SHORT): string | undefined {
  if (absent(v)) return undefined;
  if (typeof v !== 'string') fail(field, `expected a string, got ${typeName(v)}`);
  if ((v as string).length > max) fail(field, `longer than ${max} characters`);
  return v as string;
}

function optArray(v: unknown, field: string): unknown[] {
  if (absent(v)) return [];
  if (!Array.isArray(v)) fail(field, `expected a list, got ${typeName(v)}`);
  return v as unknown[];
}

function optObject(v: unknown, field: string): Loose {
  if (absent(v)) return {};
  if (!isObj(v)) fail(field, `expected an object, got ${typeName(v)}`);
  return v as Loose;
}

function ip(v: unknown, field: string | number): void {
  if (typeof v !== 'string' || v.length > 45 || isIP(v) === 0) fail(field, `not an IP address: ${preview(v)}`);
}

/** Runs `check` on each item of a list, with the list's field and the item's index on the trail. */
function eachOf(list: unknown[], field: string, check: (item: unknown, i: number) => void): void {
  trail.push(field, 0);
  for (let i = 0; i < list.length; i++) {
    trail[trail.length - 1] = i;
    check(list[i], i);
  }
  trail.length -= 2;
}

function metadata(v: unknown, kind: ResourceKind): void {
  if (!isObj(v)) fail('metadata', `expected an object, got ${typeName(v)}`);
  const m = v as Loose;
  trail.push('metadata');
  const labelNamed = kind === 'services' || kind === 'namespaces';
  const name = m.name;
  if (typeof name !== 'string') fail('name', `expected a string, got ${typeName(name)}`);
  if (labelNamed ? !LABEL.test(name as string) : (name as string).length > 253 || !SUBDOMAIN.test(name as string)) {
    fail('name', `not a DNS-1123 ${labelNamed ? 'label' : 'subdomain'}: ${preview(name)}`);
  }
  if (kind !== 'namespaces' && !absent(m.namespace) && (typeof m.namespace !== 'string' || !LABEL.test(m.namespace))) {
    fail('namespace', `not a DNS-1123 label: ${preview(m.namespace)}`);
  }
  optString(m.resourceVersion, 'resourceVersion', 64);
  const labels = optObject(m.labels, 'labels');
  for (const k in labels) {
    const value = labels[k];
    if (!Object.hasOwn(labels, k) || absent(value) || (typeof value === 'string' && value.length <= MAX_SHORT)) continue;
    fail(`labels[${preview(k)}]`, typeof value === 'string' ? `longer than ${MAX_SHORT} characters` : `expected a string, got ${typeName(value)}`);
  }
  const owner = labels[SERVICE_NAME_LABEL];
  if (kind === 'endpointslices' && owner !== undefined && !LABEL.test(owner as string)) fail(`labels[${SERVICE_NAME_LABEL}]`, `not a Service name: ${preview(owner)}`);
  optString(optObject(m.annotations, 'annotations')[LAST_CHANGE_TRIGGER_TIME], `annotations[${LAST_CHANGE_TRIGGER_TIME}]`);
  trail.pop();
}

/** Service ports need a number; an EndpointSlice port without one means "all ports" and is dropped by trimming. */
function ports(v: unknown, field: string, needPort: boolean): void {
  eachOf(optArray(v, field), field, (p) => {
    if (!isObj(p)) fail(undefined, `expected an object, got ${typeName(p)}`);
    const port = (p as Loose).port;
    if (!(absent(port) && !needPort) && (!Number.isInteger(port) || (port as number) < 0 || (port as number) > 65535)) fail('port', `not a port number: ${preview(port)}`);
    optString((p as Loose).name, 'name');
    optString((p as Loose).protocol, 'protocol', 16);
  });
}

function service(o: Loose): void {
  if (!isObj(o.spec)) fail('spec', `expected an object, got ${typeName(o.spec)}`);
  const spec = o.spec as Loose;
  trail.push('spec');
  const type = optString(spec.type, 'type', 32);
  const clusterIP = (v: unknown, field: string | number) => v === 'None' || v === '' || ip(v, field);
  if (!absent(spec.clusterIP)) clusterIP(spec.clusterIP, 'clusterIP');
  const ips = optArray(spec.clusterIPs, 'clusterIPs');
  trail.push('clusterIPs');
  ips.forEach((v, i) => clusterIP(v, i));
  trail.pop();
  const external = optString(spec.externalName, 'externalName', 254);
  if (external !== undefined && !DNS_NAME.test(external)) fail('externalName', `not a DNS name: ${preview(external)}`);
  if (type === 'ExternalName' && external === undefined) fail('externalName', 'missing for an ExternalName Service');
  ports(spec.ports, 'ports', true);
  trail.pop();
}

function endpointSlice(o: Loose): void {
  optString(o.addressType, 'addressType', 16);
  eachOf(optArray(o.endpoints, 'endpoints'), 'endpoints', (e) => {
    if (!isObj(e)) fail(undefined, `expected an object, got ${typeName(e)}`);
    const ep = e as Loose;
    // Kubernetes requires addresses (1 to 100 of them); answers iterate them.
    if (!Array.isArray(ep.addresses)) fail('addresses', `expected a list, got ${typeName(ep.addresses)}`);
    const addresses = ep.addresses as unknown[];
    for (let j = 0; j < addresses.length; j++) {
      const a = addresses[j];
      if (typeof a !== 'string' || a.length > 45 || isIP(a) === 0) fail(`addresses[${j}]`, `not an IP address: ${preview(a)}`);
    }
    if (!absent(ep.conditions)) {
      const ready = optObject(ep.conditions, 'conditions').ready;
      if (!absent(ready) && typeof ready !== 'boolean') fail('conditions.ready', `expected a boolean, got ${typeName(ready)}`);
    }
    const hostname = optString(ep.hostname, 'hostname');
    if (hostname !== undefined && !LABEL.test(hostname)) fail('hostname', `not a DNS-1123 label: ${preview(hostname)}`);
    if (!absent(ep.targetRef)) optString(optObject(ep.targetRef, 'targetRef').name, 'targetRef.name', 253);
  });
  // The trimmed form the index stores: ready addresses and their names, side by side.
  const ips = optArray(o.ips, 'ips');
  for (let i = 0; i < ips.length; i++) {
    const a = ips[i];
    if (typeof a !== 'string' || a.length > 45 || isIP(a) === 0) fail(`ips[${i}]`, `not an IP address: ${preview(a)}`);
  }
  if (!absent(o.names)) {
    const names = optArray(o.names, 'names');
    if (names.length !== ips.length) fail('names', 'not as long as ips');
    // Pod names (endpoint_pod_names) are subdomains, so only the label length is held to.
    trail.push('names');
    names.forEach((n, i) => optString(n, i));
    trail.pop();
  }
  if (!absent(o.triggerTime) && !Number.isFinite(o.triggerTime)) fail('triggerTime', `not a number: ${preview(o.triggerTime)}`);
  ports(o.ports, 'ports', false);
}

function pod(o: Loose): void {
  const status = optObject(o.status, 'status');
  trail.push('status');
  if (!absent(status.podIP) && status.podIP !== '') ip(status.podIP, 'podIP');
  eachOf(optArray(status.podIPs, 'podIPs'), 'podIPs', (p) => {
    if (!isObj(p)) fail(undefined, `expected an object, got ${typeName(p)}`);
    ip((p as Loose).ip, 'ip');
  });
  trail.pop();
}

/** Objects produced by checkAndTrim: known good, so the index need not check them again. */
const checked = new WeakSet<object>();

/**
 * What is wrong with an object of `kind` (as the API serves it, or trimmed), or undefined if nothing is.
 * `identityOnly`: a deletion, where only the name and namespace are read.
 */
export function checkObject(kind: ResourceKind, raw: unknown, identityOnly = false): string | undefined {
  if (!identityOnly && isObj(raw) && checked.has(raw)) return undefined;
  trail.length = 0;
  try {
    if (!isObj(raw)) fail(undefined, `expected an object, got ${typeName(raw)}`);
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

/** The trimmed object a feed hands on, or what is wrong with the raw one (checked as for checkObject). */
export function checkAndTrim(kind: ResourceKind, raw: unknown, opts: TrimOptions, identityOnly = false): KObject | string {
  const problem = checkObject(kind, raw, identityOnly);
  if (problem !== undefined) return problem;
  const trimmed = TRIM[kind](raw, opts);
  if (!identityOnly) checked.add(trimmed);
  return trimmed;
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
