// The one index every feed writes into: Services, EndpointSlices, Namespaces and Pods, applied one event at
// a time. Each event rebuilds only the ServiceEntry it touches (ready answers per name) and its share of
// the reverse maps, so a query is a map lookup and an update costs the size of one Service. Objects are not
// kept: a Service's facts live in its entry, a slice as its ready addresses (records.ts).
import { canonicalIP } from '../../core/ip.js';
import {
  SERVICE_NAME_LABEL, type KEndpointSlice, type KNamespace, type KObject, type KPod, type KService, type ResourceKind,
} from './objects.js';
import { buildEntry, Interner, serviceFacts, sliceRecord, viewOf, type ServiceEntry, type ServiceFacts, type ServiceView, type SliceRecord } from './records.js';
import { checkObject } from './validate.js';

export type EventType = 'add' | 'update' | 'delete';
export type ChangeKind = 'service' | 'endpoints' | 'namespace' | 'pod';

export interface IndexChange {
  readonly kind: ChangeKind;
  readonly type: EventType;
  readonly namespace: string;
  readonly name: string;
}

export type ChangeListener = (change: IndexChange) => void;

export interface ServiceIndexOptions {
  /** `endpoint_pod_names`: an endpoint without a hostname is named by its pod. */
  readonly endpointPodNames?: boolean;
  /**
   * Told, once a slice's change is answerable, how long ago the change that caused it happened (its
   * last-change-trigger-time): coredns_kubernetes_dns_programming_duration_seconds.
   */
  readonly onProgrammed?: (serviceKind: 'cluster_ip' | 'headless_with_selector', seconds: number) => void;
}

/** What a feed writes. */
export interface IndexSink {
  readonly synced: boolean;
  /** false: the object was malformed and nothing changed. */
  apply(kind: ResourceKind, type: EventType, obj: KObject): boolean;
  markSynced(): void;
  /** Resolves once markSynced() has been called. */
  whenSynced(): Promise<void>;
}

/** The read side, for the handler and for consumers such as the etcd helper's kube2sky sync. */
export interface ServiceIndexReader {
  readonly synced: boolean;
  /** Unix seconds of the last change (the SOA serial). */
  readonly serial: number;
  onChange(listener: ChangeListener): () => void;
  getService(namespace: string, name: string): ServiceView | undefined;
  services(): IterableIterator<ServiceView>;
  hasNamespace(namespace: string): boolean;
}

const KIND_OF: Record<ResourceKind, ChangeKind> = { services: 'service', endpointslices: 'endpoints', namespaces: 'namespace', pods: 'pod' };

type Multi<T> = Map<string, T | T[]>;

const NO_SLICES: readonly SliceRecord[] = Object.freeze([]);

function addMulti<T>(map: Multi<T>, key: string, value: T): void {
  const cur = map.get(key);
  if (cur === undefined) map.set(key, value);
  else if (Array.isArray(cur)) cur.push(value);
  else map.set(key, [cur, value]);
}

function removeMulti<T>(map: Multi<T>, key: string, value: T): void {
  const cur = map.get(key);
  if (cur === value) map.delete(key);
  else if (Array.isArray(cur)) {
    const rest = cur.filter((v) => v !== value);
    if (rest.length === 0) map.delete(key);
    else map.set(key, rest.length === 1 ? rest[0]! : rest);
  }
}

function getMulti<T>(map: Multi<T>, key: string): readonly T[] {
  const cur = map.get(key);
  return cur === undefined ? [] : Array.isArray(cur) ? cur : [cur];
}

export class ServiceIndex implements IndexSink, ServiceIndexReader {
  readonly #podNames: boolean;
  /** One per Service: its facts and ready answers. */
  readonly #entries = new Map<string, ServiceEntry>();
  /** Services whose spec.clusterIP is None (the programming-duration metric's label). */
  readonly #clusterIPNone = new Set<string>();
  readonly #sliceOwner = new Map<string, string>();
  /** By Service key, Service or not yet: the slices that name it. */
  readonly #slicesBySvc = new Map<string, readonly SliceRecord[]>();
  readonly #pool = new Interner();
  readonly #namespaces = new Set<string>();
  readonly #clusterRev: Multi<ServiceEntry> = new Map();
  readonly #endpointRev: Multi<ServiceEntry> = new Map();
  readonly #podIPs = new Map<string, string[]>();
  readonly #podRev = new Map<string, number>();
  /** Pod IP → the pod (its `name/namespace` key) last seen with it: the client's pod, for metadata. */
  readonly #podByIP = new Map<string, string>();
  readonly #listeners = new Set<ChangeListener>();
  #synced = false;
  #syncWaiters: (() => void)[] = [];
  #serial = Math.floor(Date.now() / 1000);

  readonly #onProgrammed: ServiceIndexOptions['onProgrammed'];

  constructor(opts: ServiceIndexOptions = {}) {
    this.#podNames = opts.endpointPodNames ?? false;
    this.#onProgrammed = opts.onProgrammed;
  }

  get synced(): boolean {
    return this.#synced;
  }
  get serial(): number {
    return this.#serial;
  }
  get endpointPodNames(): boolean {
    return this.#podNames;
  }
  get size(): { services: number; endpointSlices: number; namespaces: number; pods: number } {
    return { services: this.#entries.size, endpointSlices: this.#sliceOwner.size, namespaces: this.#namespaces.size, pods: this.#podIPs.size };
  }

  markSynced(): void {
    this.#synced = true;
    for (const w of this.#syncWaiters.splice(0)) w();
  }

  whenSynced(): Promise<void> {
    return this.#synced ? Promise.resolve() : new Promise((resolve) => this.#syncWaiters.push(resolve));
  }

  onChange(listener: ChangeListener): () => void {
    this.#listeners.add(listener);
    return () => void this.#listeners.delete(listener);
  }

  /**
   * Applies one event. An object that fails checkObject is refused whole, before anything changes:
   * the return is false and the index is as it was. Feeds check first so they can say why.
   */
  apply(kind: ResourceKind, type: EventType, obj: KObject): boolean {
    if (!Object.hasOwn(KIND_OF, kind) || (type !== 'add' && type !== 'update' && type !== 'delete') || checkObject(kind, obj, type === 'delete') !== undefined) return false;
    switch (kind) {
      case 'services': this.#applyService(type, obj as KService); break;
      case 'endpointslices': this.#applySlice(type, obj as KEndpointSlice); break;
      case 'namespaces': this.#applyNamespace(type, obj as KNamespace); break;
      case 'pods': this.#applyPod(type, obj as KPod); break;
    }
    this.#serial = Math.floor(Date.now() / 1000);
    const change: IndexChange = { kind: KIND_OF[kind], type, namespace: obj.metadata.namespace ?? '', name: obj.metadata.name };
    for (const l of this.#listeners) {
      try {
        l(change);
      } catch {
        // A listener's failure must not stop the feed; listeners log their own errors.
      }
    }
    return true;
  }

  // ---- reads ----

  entry(name: string, namespace: string): ServiceEntry | undefined {
    return this.#entries.get(`${name}.${namespace}`);
  }
  hasNamespace(namespace: string): boolean {
    return this.#namespaces.has(namespace);
  }
  /** Services with this cluster IP. */
  clusterIPOwners(ip: string): readonly ServiceEntry[] {
    return getMulti(this.#clusterRev, ip);
  }
  /** Services with this IP among their ready endpoint addresses. */
  endpointOwners(ip: string): readonly ServiceEntry[] {
    return getMulti(this.#endpointRev, ip);
  }
  podExists(namespace: string, ip: string): boolean {
    return this.#podRev.has(`${namespace}/${ip}`);
  }
  /** The pod with this IP (indexed with `pods verified`), as CoreDNS's podWithIP finds a client's pod. */
  podWithIP(ip: string): { readonly namespace: string; readonly name: string } | undefined {
    const key = this.#podByIP.get(ip);
    if (key === undefined) return undefined;
    const slash = key.lastIndexOf('/');
    return { name: key.slice(0, slash), namespace: key.slice(slash + 1) };
  }
  getService(namespace: string, name: string): ServiceView | undefined {
    const e = this.entry(name, namespace);
    return e ? viewOf(e, this.#podNames) : undefined;
  }
  *services(): IterableIterator<ServiceView> {
    for (const e of this.#entries.values()) yield viewOf(e, this.#podNames);
  }

  // ---- writes ----

  #applyService(type: EventType, svc: KService): void {
    if (type === 'delete') {
      const key = `${svc.metadata.name}.${svc.metadata.namespace ?? 'default'}`;
      this.#clusterIPNone.delete(key);
      this.#rebuild(key, null);
      return;
    }
    const facts = serviceFacts(svc, this.#pool);
    if (svc.spec.clusterIP === 'None') this.#clusterIPNone.add(facts.key);
    else this.#clusterIPNone.delete(facts.key);
    this.#rebuild(facts.key, facts);
  }

  #applySlice(type: EventType, slice: KEndpointSlice): void {
    const ns = this.#pool.string(slice.metadata.namespace ?? 'default');
    const sliceKey = `${slice.metadata.name}/${ns}`;
    const oldOwner = this.#sliceOwner.get(sliceKey);
    const svcName = slice.metadata.labels?.[SERVICE_NAME_LABEL];
    const owner = type === 'delete' || !svcName ? undefined : `${svcName}.${ns}`;
    // The Service's own key string when it is there: one copy, not one per slice.
    const newOwner = owner === undefined ? undefined : (this.#entries.get(owner)?.key ?? owner);
    if (oldOwner !== undefined) {
      const rest = (this.#slicesBySvc.get(oldOwner) ?? []).filter((s) => s.key !== sliceKey);
      if (rest.length === 0) this.#slicesBySvc.delete(oldOwner);
      else this.#slicesBySvc.set(oldOwner, rest);
      this.#sliceOwner.delete(sliceKey);
    }
    if (newOwner !== undefined) {
      // A new array each time: entries built before keep their own consistent view.
      this.#slicesBySvc.set(newOwner, [...(this.#slicesBySvc.get(newOwner) ?? []), sliceRecord(slice, sliceKey, this.#podNames, this.#pool)]);
      this.#sliceOwner.set(sliceKey, newOwner);
    }
    if (oldOwner !== undefined && oldOwner !== newOwner) this.#rebuild(oldOwner);
    if (newOwner !== undefined) {
      this.#rebuild(newOwner);
      if (this.#entries.has(newOwner) && slice.triggerTime !== undefined && this.#onProgrammed) {
        const headless = this.#clusterIPNone.has(newOwner);
        this.#onProgrammed(headless ? 'headless_with_selector' : 'cluster_ip', Math.max(0, Date.now() - slice.triggerTime) / 1000);
      }
    }
  }

  #applyNamespace(type: EventType, ns: KNamespace): void {
    if (type === 'delete') this.#namespaces.delete(ns.metadata.name);
    else this.#namespaces.add(ns.metadata.name);
  }

  #applyPod(type: EventType, pod: KPod): void {
    const ns = pod.metadata.namespace ?? 'default';
    const key = `${pod.metadata.name}/${ns}`;
    for (const ip of this.#podIPs.get(key) ?? []) {
      const k = `${ns}/${ip}`;
      const n = (this.#podRev.get(k) ?? 1) - 1;
      if (n <= 0) this.#podRev.delete(k);
      else this.#podRev.set(k, n);
      if (this.#podByIP.get(ip) === key) this.#podByIP.delete(ip);
    }
    this.#podIPs.delete(key);
    if (type === 'delete') return;
    const ips = (pod.status?.podIPs ?? []).map((p) => canonicalIP(p.ip)).filter((ip): ip is string => ip !== undefined);
    if (ips.length === 0) return;
    this.#podIPs.set(key, ips);
    for (const ip of ips) {
      this.#podRev.set(`${ns}/${ip}`, (this.#podRev.get(`${ns}/${ip}`) ?? 0) + 1);
      // A hostNetwork pod's address is its node's, shared by every such pod there: it names no one client.
      if (!pod.hostNetwork) this.#podByIP.set(ip, key);
    }
  }

  /**
   * Replaces one Service's entry and its reverse-map share. `facts`: the Service's new facts, null when it
   * is gone; absent, its facts are as they were (a slice changed).
   */
  #rebuild(key: string, facts?: ServiceFacts | null): void {
    const old = this.#entries.get(key);
    if (old) {
      for (const ip of old.clusterIPs) removeMulti(this.#clusterRev, ip, old);
      for (const ip of old.endpointIPs) removeMulti(this.#endpointRev, ip, old);
      this.#entries.delete(key);
    }
    const svc = facts === undefined ? old : facts;
    if (!svc) return;
    const entry = buildEntry(svc, this.#slicesBySvc.get(key) ?? NO_SLICES);
    this.#entries.set(key, entry);
    for (const ip of entry.clusterIPs) addMulti(this.#clusterRev, ip, entry);
    for (const ip of entry.endpointIPs) addMulti(this.#endpointRev, ip, entry);
  }
}
