// One resource's list+watch loop, as client-node's ListWatch (dist/cache.js) runs it, line for line in what
// it calls back and when. Ours because importing that one loads node-fetch and client-node's generated
// models (its ObjectSerializer, used only to pass selector strings through): ~40 MB of RSS, a third of the
// 10k-Service budget. And its cache keeps every object, which the index already holds in a compact form:
// this one keeps only each object's resourceVersion (what relist and the update check read), and hands a
// deletion found by a relist the object's identity (name, namespace), which is all a deletion is read for.

/** The fields of an object the loop reads. */
export interface ListedObject {
  readonly metadata: { readonly name?: string; readonly namespace?: string; readonly resourceVersion?: string | null };
}

export interface ObjectList<T> {
  readonly metadata?: { readonly resourceVersion?: string };
  readonly items: readonly T[];
}

export type WatchParams = Record<string, string | number | boolean | undefined>;

/** What ListWatch opens a watch through (feed-api.ts's watcher); the shape of client-node's Watch. */
export interface Watcher {
  watch(
    path: string, params: WatchParams, cb: (phase: string, obj: unknown, watchObj?: unknown) => unknown, done: (err: unknown) => unknown,
  ): Promise<{ abort(): void }>;
}

export type ObjectVerb = 'add' | 'update' | 'delete';
type Verb = ObjectVerb | 'error' | 'connect';

/** What connectIndex needs of an informer: ours, or client-node's (the fuzz test's reference). */
export interface Informer<T> {
  on(verb: ObjectVerb, cb: (obj: T) => void): void;
}

export class ListWatch<T extends ListedObject> implements Informer<T> {
  /** namespace → name → resourceVersion, as client-node's cache keys its objects. */
  #versions = new Map<string, Map<string, string | null | undefined>>();
  readonly #callbacks: Record<Verb, ((arg: never) => unknown)[]> = { add: [], update: [], delete: [], error: [], connect: [] };
  #resourceVersion = '';
  #request: { abort(): void } | undefined;
  #stopped = false;

  constructor(
    private readonly path: string,
    private readonly watcher: Watcher,
    private readonly listFn: () => Promise<ObjectList<T>>,
    private readonly labelSelector?: string,
    private readonly fieldSelector?: string,
  ) {}

  async start(): Promise<void> {
    this.#stopped = false;
    await this.#doneHandler(null);
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#stop();
  }

  on(verb: ObjectVerb, cb: (obj: T) => void): void;
  on(verb: 'error', cb: (err: unknown) => void): void;
  on(verb: 'connect', cb: () => void): void;
  on(verb: Verb, cb: (arg: never) => unknown): void {
    const list = this.#callbacks[verb];
    if (list === undefined) throw new Error(`Unknown verb: ${verb}`);
    list.push(cb);
  }

  latestResourceVersion(): string {
    return this.#resourceVersion;
  }

  /** How many objects the cache knows (tests). */
  get size(): number {
    let n = 0;
    for (const m of this.#versions.values()) n += m.size;
    return n;
  }

  #emit(verb: Verb, arg: unknown): void {
    for (const cb of this.#callbacks[verb].slice()) (cb as (a: unknown) => unknown)(arg);
  }

  #stop(): void {
    this.#request?.abort();
    this.#request = undefined;
  }

  async #doneHandler(err: unknown): Promise<void> {
    this.#stop();
    const e = err as { statusCode?: number; code?: number } | null;
    if (e && (e.statusCode === 410 || e.code === 410)) this.#resourceVersion = '';
    else if (err) {
      this.#emit('error', err);
      return;
    }
    if (this.#stopped) return;
    this.#emit('connect', undefined);
    if (!this.#resourceVersion && !(await this.#relist())) return;
    const params: WatchParams = { resourceVersion: this.#resourceVersion };
    if (this.labelSelector !== undefined) params.labelSelector = this.labelSelector;
    if (this.fieldSelector !== undefined) params.fieldSelector = this.fieldSelector;
    this.#request = await this.watcher.watch(this.path, params, this.#watchHandler.bind(this), this.#doneHandler.bind(this));
  }

  /**
   * Lists and applies the list; false when listing failed (reported). A method of its own so that the list
   * is garbage once applied, not held by the frame that waits for the watch.
   */
  async #relist(): Promise<boolean> {
    let list: ObjectList<T>;
    try {
      list = await this.listFn();
    } catch (listErr) {
      this.#emit('error', listErr);
      return false;
    }
    this.#deleteMissing(list.items);
    for (const obj of list.items ?? []) this.#addOrUpdate(obj);
    this.#resourceVersion = list.metadata ? list.metadata.resourceVersion || '' : '';
    return true;
  }

  /** client-node's watchHandler: async, so that what a callback throws rejects it. */
  async #watchHandler(phase: string, obj: unknown): Promise<void> {
    const o = obj as T & { code?: number };
    switch (phase) {
      case 'ERROR':
        if (o.code === 410) this.#resourceVersion = '';
        return;
      case 'ADDED':
      case 'MODIFIED':
        this.#addOrUpdate(o);
        break;
      case 'DELETED':
        this.#delete(o);
        break;
    }
    this.#resourceVersion = o.metadata ? o.metadata.resourceVersion || '' : '';
  }

  /** A relist: what the cache holds and the list does not is deleted, namespace by namespace as client-node does. */
  #deleteMissing(items: readonly T[] | null | undefined): void {
    const listed = new Map<string, Set<string>>();
    for (const obj of items ?? []) {
      const ns = obj.metadata.namespace || '';
      let names = listed.get(ns);
      if (!names) listed.set(ns, (names = new Set()));
      names.add(obj.metadata.name || '');
    }
    for (const [ns, versions] of this.#versions) {
      const names = listed.get(ns);
      if (names) {
        for (const name of versions.keys()) {
          if (names.has(name)) continue;
          versions.delete(name);
          this.#emit('delete', identity(name, ns));
        }
      } else {
        this.#versions.delete(ns);
        for (const name of versions.keys()) this.#emit('delete', identity(name, ns));
      }
    }
  }

  #addOrUpdate(obj: T): void {
    const ns = obj.metadata.namespace || '';
    let versions = this.#versions.get(ns);
    if (!versions) this.#versions.set(ns, (versions = new Map()));
    const name = obj.metadata.name || '';
    const rv = obj.metadata.resourceVersion;
    if (!versions.has(name)) {
      versions.set(name, rv);
      this.#emit('add', obj);
      return;
    }
    const old = versions.get(name);
    // client-node's isSameVersion: equal, and set.
    if (old !== undefined && old !== null && old === rv) return;
    versions.set(name, rv);
    this.#emit('update', obj);
  }

  #delete(obj: T): void {
    const ns = obj.metadata.namespace || '';
    const versions = this.#versions.get(ns);
    if (!versions || !versions.delete(obj.metadata.name || '')) return;
    this.#emit('delete', obj);
    if (versions.size === 0) this.#versions.delete(ns);
  }
}

/** The object a deletion found by relist is reported with: what the cache knew of it. */
function identity(name: string, namespace: string): ListedObject {
  return { metadata: namespace ? { name, namespace } : { name } };
}
