// kube2sky's writer: keeps the keys under svc.ZONE equal to what the Service index says, one Service
// at a time, each Service's changes in one etcd transaction.
import { EventEmitter } from 'node:events';
import type { Etcd3, IRequestOp } from 'etcd3';
import { RateLimitedLog, type Logger } from '../../../core/log.js';
import type { IndexChange, ServiceIndexReader } from '../../kubernetes/service-index.js';
import { ownerOf, serviceKey, serviceRecords, servicesKey, type RecordOptions, type Records } from './records.js';

export interface SyncOptions extends RecordOptions {
  /** etcd's --max-txn-ops (default 128): a Service needing more operations is written in chunks. */
  readonly maxTxnOps?: number;
  /** Longest wait between retries after etcd failed a write, in ms. Default 5000. */
  readonly backoffMaxMs?: number;
  /** Re-read everything under svc.ZONE and repair differences this often, in ms (0: never). Default 5 minutes. */
  readonly resyncMs?: number;
}

const serviceId = (namespace: string, name: string): string => `${namespace}/${name}`;

/**
 * Events: 'written' (namespace, name, revision) after a Service's keys changed in etcd; 'synced'
 * after a full comparison with etcd (at start and at each resync).
 */
export class Kube2SkySync extends EventEmitter {
  readonly #client: Etcd3;
  readonly #index: ServiceIndexReader;
  readonly #opts: SyncOptions;
  readonly #logger: Logger;
  readonly #log = new RateLimitedLog(30_000);
  /** What etcd holds under svc.ZONE, as far as this writer knows: Service id → its keys. */
  #written = new Map<string, Records>();
  /** Services (id) or whole namespaces ('ns/*') to recompute. */
  #dirty = new Set<string>();
  #full = false;
  #running: Promise<void> | undefined;
  #timer: NodeJS.Timeout | undefined;
  #resync: NodeJS.Timeout | undefined;
  #delay = 100;
  #stopped = false;
  #unsubscribe: (() => void) | undefined;
  #idleWaiters: (() => void)[] = [];

  constructor(client: Etcd3, index: ServiceIndexReader, opts: SyncOptions, logger: Logger) {
    super();
    this.#client = client;
    this.#index = index;
    this.#opts = opts;
    this.#logger = logger;
  }

  /** Subscribes to the index and schedules the first full comparison. */
  start(): void {
    this.#unsubscribe = this.#index.onChange((c) => this.#onChange(c));
    this.#full = true;
    this.#schedule(0);
    const every = this.#opts.resyncMs ?? 300_000;
    if (every > 0) {
      this.#resync = setInterval(() => {
        this.#full = true;
        this.#schedule(0);
      }, every);
      this.#resync.unref();
    }
  }

  async stop(): Promise<void> {
    this.#stopped = true;
    this.#unsubscribe?.();
    clearTimeout(this.#timer);
    clearInterval(this.#resync);
    await this.#running;
  }

  /** Resolves once nothing is left to write. */
  idle(): Promise<void> {
    if (!this.#busy()) return Promise.resolve();
    return new Promise((resolve) => this.#idleWaiters.push(resolve));
  }

  #busy(): boolean {
    return this.#full || this.#dirty.size > 0 || this.#running !== undefined;
  }

  #onChange(c: IndexChange): void {
    if (c.kind === 'service') this.#dirty.add(serviceId(c.namespace, c.name));
    else if (c.kind === 'endpoints') {
      // The change names the slice; its Service is named by a label the change does not carry.
      const owner = (c as IndexChange & { service?: string }).service;
      this.#dirty.add(owner ? serviceId(c.namespace, owner) : serviceId(c.namespace, '*'));
    } else return;
    this.#schedule(0);
  }

  #schedule(ms: number): void {
    if (this.#stopped || this.#running || this.#timer) return;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      this.#running = this.#flush().finally(() => {
        this.#running = undefined;
        if (this.#full || this.#dirty.size > 0) this.#schedule(this.#delay);
        else for (const w of this.#idleWaiters.splice(0)) w();
      });
    }, ms);
  }

  async #flush(): Promise<void> {
    if (!this.#index.synced) {
      // Writing before the index is complete would delete the keys of Services not listed yet.
      await Promise.race([waitSynced(this.#index), delay(1000)]);
      return;
    }
    try {
      if (this.#full) {
        this.#full = false;
        this.#dirty.clear();
        await this.#fullSync().catch((err: unknown) => {
          this.#full = true;
          throw err;
        });
      } else {
        const ids = this.#expand([...this.#dirty]);
        this.#dirty.clear();
        for (let i = 0; i < ids.length; i++) {
          if (this.#stopped) return;
          await this.#syncService(ids[i]!).catch((err: unknown) => {
            for (const id of ids.slice(i)) this.#dirty.add(id);
            throw err;
          });
        }
      }
      this.#delay = 100;
    } catch (err) {
      const line = this.#log.line('write', `cannot write to etcd (${(err as Error).message}): retrying`);
      if (line) this.#logger.warn(line);
      this.#delay = Math.min(this.#delay * 2, this.#opts.backoffMaxMs ?? 5000);
    }
  }

  /** Service ids; a namespace marker ('ns/*') stands for every Service known in it, now or before. */
  #expand(ids: string[]): string[] {
    const out = new Set<string>();
    const namespaces = new Set(ids.filter((id) => id.endsWith('/*')).map((id) => id.slice(0, -2)));
    for (const id of ids) if (!id.endsWith('/*')) out.add(id);
    if (namespaces.size > 0) {
      for (const v of this.#index.services()) if (namespaces.has(v.namespace)) out.add(serviceId(v.namespace, v.name));
      for (const id of this.#written.keys()) if (namespaces.has(id.slice(0, id.indexOf('/')))) out.add(id);
    }
    return [...out];
  }

  /** Reads every key under svc.ZONE, then makes each Service's keys what the index says. */
  async #fullSync(): Promise<void> {
    const existing = await this.#client.getAll().prefix(`${servicesKey(this.#opts)}/`).strings();
    const written = new Map<string, Records>();
    for (const [key, value] of Object.entries(existing)) {
      const owner = ownerOf(key, this.#opts);
      if (!owner) continue;
      const id = serviceId(owner.namespace, owner.name);
      let recs = written.get(id);
      if (!recs) written.set(id, (recs = new Map()));
      recs.set(key, value);
    }
    this.#written = written;
    const ids = new Set(written.keys());
    for (const v of this.#index.services()) ids.add(serviceId(v.namespace, v.name));
    let changed = 0;
    for (const id of ids) {
      if (this.#stopped) return;
      if (await this.#syncService(id)) changed++;
    }
    this.#logger.info(`kube2sky: ${ids.size} services compared with etcd, ${changed} written`);
    this.emit('synced', changed);
  }

  /** Writes one Service's difference; true when something was written. */
  async #syncService(id: string): Promise<boolean> {
    const slash = id.indexOf('/');
    const [namespace, name] = [id.slice(0, slash), id.slice(slash + 1)];
    const view = this.#index.getService(namespace, name);
    const want = view ? serviceRecords(view, this.#opts) : new Map<string, string>();
    const have = this.#written.get(id) ?? new Map<string, string>();
    const puts: IRequestOp[] = [];
    const deletes: IRequestOp[] = [];
    for (const [key, value] of want) {
      if (have.get(key) !== value) puts.push({ request_put: { key: Buffer.from(key), value: Buffer.from(value) } });
    }
    for (const key of have.keys()) if (!want.has(key)) deletes.push({ request_delete_range: { key: Buffer.from(key) } });
    if (puts.length === 0 && deletes.length === 0) return false;
    const revision = await this.#commit(puts, deletes);
    if (want.size > 0) this.#written.set(id, want);
    else this.#written.delete(id);
    this.emit('written', namespace, name, revision, serviceKey(this.#opts, namespace, name));
    return true;
  }

  /**
   * One transaction when it fits etcd's limit, so a crash never leaves half a Service. A larger one
   * is written in chunks, puts before deletes, so its name never loses every address mid-way; a
   * crash then leaves a superset that the next start's comparison removes.
   */
  async #commit(puts: IRequestOp[], deletes: IRequestOp[]): Promise<number> {
    const max = this.#opts.maxTxnOps ?? 128;
    const ops = [...puts, ...deletes];
    let revision = 0;
    for (let i = 0; i < ops.length; i += max) {
      const res = await this.#client.kv.txn({ compare: [], success: ops.slice(i, i + max), failure: [] });
      revision = Number(res.header.revision);
    }
    return revision;
  }
}

function waitSynced(index: ServiceIndexReader): Promise<void> {
  const w = (index as ServiceIndexReader & { whenSynced?: () => Promise<void> }).whenSynced;
  return w ? w.call(index) : delay(100);
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
