// Fuzzers of the kubernetes plugin's input handling: the index fed valid and mutated objects directly, and
// the feed's watch-line handling feeding our ListWatch and the index, with client-node's ListWatch beside it. Each runs for a time
// budget and throws, naming its seed, on the first thing that escapes or on an index that disagrees with
// one rebuilt from the objects it accepted.
import type { KubernetesObject } from '@kubernetes/client-node';
import { ListWatch as ClientNodeListWatch } from '@kubernetes/client-node/dist/cache.js';
import type { Watch } from '@kubernetes/client-node/dist/watch.js';
import { createLogger } from '../../core/log.js';
import { checkListPage, connectIndex, UntrustedStream, watchLineHandler } from '../../plugins/kubernetes/feed-api.js';
import { MalformedReport } from '../../plugins/kubernetes/feed.js';
import { ListWatch } from '../../plugins/kubernetes/list-watch.js';
import { TRIM, type KObject, type ResourceKind } from '../../plugins/kubernetes/objects.js';
import { ServiceIndex, type EventType } from '../../plugins/kubernetes/service-index.js';
import { checkObject } from '../../plugins/kubernetes/validate.js';
import { namespace, pod, service, slice } from '../fixtures/k8s-objects.js';
import { chance, int, mutate, pick, randomValue, rngOf, type Rng } from './mutate.js';

const NAMESPACES = ['prod', 'dev', 'fuzz'];
const NAMES = ['db', 'web', 'api', 'cache', 'x'];
const KINDS: ResourceKind[] = ['services', 'endpointslices', 'namespaces', 'pods'];

function ip(rng: Rng): string {
  return chance(rng, 0.8) ? `10.${int(rng, 3)}.${int(rng, 3)}.${1 + int(rng, 5)}` : `fd00::${(1 + int(rng, 9)).toString(16)}`;
}

/** A valid object of `kind` as the API server serves it. */
export function validObject(rng: Rng, kind: ResourceKind): KObject {
  const ns = pick(rng, NAMESPACES);
  const name = pick(rng, NAMES);
  const ports = chance(rng, 0.7) ? [{ name: pick(rng, ['http', 'dns', 'pg']), port: 1 + int(rng, 9000), protocol: pick(rng, ['TCP', 'UDP']) }] : undefined;
  switch (kind) {
    case 'services':
      return pick(rng, [
        () => service(ns, name, { clusterIPs: [ip(rng)], ...(ports ? { ports } : {}) }),
        () => service(ns, name, ports ? { ports } : {}),
        () => service(ns, name, { type: 'ExternalName', externalName: `${pick(rng, NAMES)}.example.org` }),
      ])();
    case 'endpointslices': {
      const endpoints = Array.from({ length: int(rng, 4) }, () => ({
        ip: ip(rng), ...(chance(rng, 0.5) ? { hostname: `${pick(rng, NAMES)}-${int(rng, 3)}` } : {}), ...(chance(rng, 0.2) ? { ready: false } : {}),
      }));
      return slice(ns, `${name}-${int(rng, 3)}`, pick(rng, NAMES), endpoints, ports);
    }
    case 'namespaces':
      return namespace(ns);
    case 'pods':
      return pod(ns, `${name}-${int(rng, 3)}`, ip(rng));
  }
}

/** The view of an index that answers depend on, in a stable order, for comparing two indexes. */
function snapshot(index: ServiceIndex, ips: Iterable<string>): string {
  const services = [...index.services()].map((v) => ({ ...v, endpoints: [...v.endpoints].map((e) => JSON.stringify(e)).sort() }))
    .sort((a, b) => `${a.namespace}/${a.name}`.localeCompare(`${b.namespace}/${b.name}`));
  const owners = [...new Set(ips)].sort().map((x) => [x, index.clusterIPOwners(x).map((e) => e.key).sort(), index.endpointOwners(x).map((e) => e.key).sort(),
    NAMESPACES.filter((ns) => index.podExists(ns, x))]);
  return JSON.stringify({ services, owners, namespaces: [...NAMESPACES, 'default'].filter((ns) => index.hasNamespace(ns)), size: index.size });
}

const keyOf = (kind: ResourceKind, o: KObject): string => `${kind}|${o.metadata.namespace ?? ''}|${o.metadata.name}`;

/** An index built from scratch from `objects`. */
function rebuilt(objects: Iterable<[ResourceKind, KObject]>): ServiceIndex {
  const fresh = new ServiceIndex();
  for (const [kind, o] of objects) if (!fresh.apply(kind, 'add', o)) throw new Error(`a accepted object is refused by a fresh index: ${JSON.stringify(o)}`);
  return fresh;
}

export interface FuzzResult {
  readonly iterations: number;
  readonly accepted: number;
  readonly refused: number;
}

/**
 * The index alone: random add/update/delete of valid and mutated objects. apply() must never throw, must
 * accept exactly what checkObject accepts, and must end up equal to an index rebuilt from what it accepted.
 */
export function fuzzIndex(seed: number, budgetMs: number): FuzzResult {
  const rng = rngOf(seed);
  const index = new ServiceIndex();
  const model = new Map<string, [ResourceKind, KObject]>();
  const ips = new Set<string>();
  let iterations = 0;
  let accepted = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++, iterations++) {
      const kind = chance(rng, 0.03) ? (pick(rng, ['Service', '__proto__', 'constructor', '']) as ResourceKind) : pick(rng, KINDS);
      const known = KINDS.includes(kind);
      const base = known ? validObject(rng, kind) : ({ metadata: { name: 'x' } } as KObject);
      const obj = chance(rng, 0.5) ? mutate(rng, base) : base;
      const type: EventType = chance(rng, 0.02) ? ('removed' as EventType) : pick(rng, ['add', 'update', 'update', 'delete'] as const);
      let ok: boolean;
      try {
        ok = index.apply(kind, type, obj);
      } catch (err) {
        throw new Error(`seed ${seed}: index.apply(${kind}, ${type}) threw ${(err as Error).stack}\nobject: ${JSON.stringify(obj)?.slice(0, 2000)}`);
      }
      const valid = known && ['add', 'update', 'delete'].includes(type) && checkObject(kind, obj, type === 'delete') === undefined;
      if (ok !== valid) throw new Error(`seed ${seed}: apply returned ${ok}, checkObject says ${valid} for ${JSON.stringify(obj).slice(0, 500)}`);
      if (!ok) continue;
      accepted++;
      const key = keyOf(kind, { ...obj, metadata: { ...obj.metadata, namespace: kind === 'namespaces' ? undefined : obj.metadata.namespace ?? 'default' } } as KObject);
      if (type === 'delete') model.delete(key);
      else model.set(key, [kind, obj]);
      for (const v of JSON.stringify(obj).match(/[0-9a-f.:]{3,}/g) ?? []) ips.add(v);
    }
    const want = snapshot(rebuilt(model.values()), ips);
    const have = snapshot(index, ips);
    if (want !== have) throw new Error(`seed ${seed}: after ${iterations} events the index differs from one rebuilt from the objects it accepted\nhave ${have.slice(0, 3000)}\nwant ${want.slice(0, 3000)}`);
  }
  return { iterations, accepted, refused: iterations - accepted };
}

/** One watch line: a valid event, an event or object made wrong, a random JSON value, or not JSON at all. */
function watchLine(rng: Rng, kind: ResourceKind, rv: number): string {
  const object = validObject(rng, kind);
  object.metadata.resourceVersion = String(rv);
  const event = { type: pick(rng, ['ADDED', 'MODIFIED', 'MODIFIED', 'DELETED', 'BOOKMARK']), object };
  switch (int(rng, 10)) {
    case 0: return JSON.stringify(randomValue(rng));
    case 1: return JSON.stringify(mutate(rng, event));
    case 2: case 3: return JSON.stringify({ ...event, object: mutate(rng, object) });
    case 4: return chance(rng, 0.1) ? pick(rng, ['<html>', '{"type":', 'garbage', '\u0000']) : JSON.stringify(event);
    default: return JSON.stringify(event);
  }
}

/**
 * The feed's event handling: lines through watchLineHandler into the feed's ListWatch, whose callbacks
 * reach the index through connectIndex, as in the feed, and into client-node's ListWatch as the reference
 * cache. Nothing may throw but UntrustedStream (after which a new handler stands in, as a restarted stream
 * would), the informers' handlers may never reject, and the index must equal one rebuilt from client-node's cache.
 */
export async function fuzzWatch(seed: number, budgetMs: number): Promise<FuzzResult> {
  const rng = rngOf(seed);
  const report = new MalformedReport(createLogger({ sink: { write: () => {} } }));
  const index = new ServiceIndex();
  const informers = new Map<ResourceKind, { informer: ClientNodeListWatch<KubernetesObject>; ours: ListWatch<KObject>; deliver: (t: string, o: unknown, raw: unknown) => unknown }>();
  for (const kind of KINDS) {
    let reference: ((t: string, o: unknown, raw: unknown) => unknown) | undefined;
    let feed: ((t: string, o: unknown, raw: unknown) => unknown) | undefined;
    const list = async () => ({ metadata: { resourceVersion: '1' }, items: [] });
    const informer = new ClientNodeListWatch<KubernetesObject>(`/${kind}`, { watch: async (_p: string, _q: unknown, cb: typeof reference) => ((reference = cb), new AbortController()) } as unknown as Watch, list, false);
    const ours = new ListWatch<KObject>(`/${kind}`, { watch: async (_p, _q, cb) => ((feed = cb), new AbortController()) }, list);
    connectIndex(ours, kind, index, report);
    await informer.start();
    await ours.start();
    // Both get each event; the reference's promise is awaited too, and only the feed's reaches the index.
    const deliver = (t: string, o: unknown, raw: unknown) => Promise.all([reference!(t, structuredClone(o), raw), feed!(t, o, raw)]);
    informers.set(kind, { informer, ours, deliver });
  }
  const pending: Promise<unknown>[] = [];
  let iterations = 0;
  let accepted = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    for (const kind of KINDS) {
      const { deliver } = informers.get(kind)!;
      let handle = watchLineHandler(kind, {}, report, (t, o, raw) => {
        accepted++;
        const p = deliver(t, o, raw);
        if (p instanceof Promise) pending.push(p);
      });
      for (let i = 0; i < 50; i++, iterations++) {
        const line = watchLine(rng, kind, iterations + 2);
        try {
          handle(line);
        } catch (err) {
          if (!(err instanceof UntrustedStream)) throw new Error(`seed ${seed}: a watch line of ${kind} threw ${(err as Error).stack}\nline: ${line.slice(0, 2000)}`);
          handle = watchLineHandler(kind, {}, report, (t, o, raw) => {
            accepted++;
            const p = deliver(t, o, raw);
            if (p instanceof Promise) pending.push(p);
          });
        }
      }
    }
    for (const r of await Promise.allSettled(pending.splice(0))) {
      if (r.status === 'rejected') throw new Error(`seed ${seed}: the informer's handler rejected: ${(r.reason as Error).stack}`);
    }
    const cached: [ResourceKind, KObject][] = [];
    for (const [kind, { informer }] of informers) for (const o of informer.list()) cached.push([kind, o as unknown as KObject]);
    const ips = new Set(cached.flatMap(([, o]) => JSON.stringify(o).match(/[0-9a-f.:]{3,}/g) ?? []));
    const want = snapshot(rebuilt(cached), ips);
    const have = snapshot(index, ips);
    if (want !== have) throw new Error(`seed ${seed}: the index differs from the informers' caches\nhave ${have.slice(0, 3000)}\nwant ${want.slice(0, 3000)}`);
  }
  for (const { informer, ours } of informers.values()) await Promise.all([informer.stop(), ours.stop()]);
  return { iterations, accepted, refused: iterations - accepted };
}

/** List pages: random and mutated pages and items; checkListPage, checkObject and trimming never throw. */
export function fuzzListPages(seed: number, budgetMs: number): FuzzResult {
  const rng = rngOf(seed);
  let iterations = 0;
  let accepted = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    for (let i = 0; i < 100; i++, iterations++) {
      const kind = pick(rng, KINDS);
      const items = Array.from({ length: int(rng, 5) }, () => (chance(rng, 0.5) ? mutate(rng, validObject(rng, kind)) : validObject(rng, kind)));
      const valid = { apiVersion: 'v1', kind: 'List', metadata: { resourceVersion: String(i) }, items };
      const page = pick(rng, [valid, valid, mutate(rng, valid), randomValue(rng)]);
      try {
        const checked = checkListPage(page);
        if (typeof checked === 'string') continue;
        for (const item of checked.items) {
          if (checkObject(kind, item) !== undefined) continue;
          accepted++;
          const trimmed = TRIM[kind](item, { podNames: chance(rng, 0.5) });
          if (checkObject(kind, trimmed) !== undefined) throw new Error(`trimming made a valid object invalid: ${checkObject(kind, trimmed)}`);
        }
      } catch (err) {
        throw new Error(`seed ${seed}: a list page threw ${(err as Error).stack}\npage: ${JSON.stringify(page)?.slice(0, 2000)}`);
      }
    }
  }
  return { iterations, accepted, refused: iterations - accepted };
}
