// The in-memory mirror of the keys under PATH: a prefix get, then a watch from the get's revision + 1.
// A compacted revision leads to a fresh get; while etcd is unreachable the mirror keeps what it has
// and the watch is re-created from the last applied revision, so no event is lost or applied twice.
import { EventEmitter } from 'node:events';
import type { Etcd3, IKeyValue, IWatchResponse } from 'etcd3';
import { RateLimitedLog, type Logger } from '../../core/log.js';
import { isIP } from 'node:net';
import { normalizePath, parseService, type Service } from './msg.js';
import { ServiceTree } from './store.js';

export interface MirrorOptions {
  readonly path: string;
  readonly logger: Logger;
  /** Longest wait between retries of a failed get, in ms; default 2000. */
  readonly backoffCapMs?: number;
  /** A lost connection is logged once per this many ms; default 30000. */
  readonly logIntervalMs?: number;
  /** Counts each record skipped as malformed (coredns_etcd_malformed_records_total). */
  readonly onMalformed?: () => void;
}

/** Longest host (a name, or an IP) and text a record may hold: a DNS name is at most 255 bytes. */
const MAX_HOST = 255;
const MAX_TEXT = 65_535;
const HOST_LABEL = /^[A-Za-z0-9_*]([-A-Za-z0-9_]{0,61}[A-Za-z0-9_])?$/;

/** What is wrong with a parsed record beyond its JSON types (ranges, a host that is no name), or undefined. */
export function recordProblem(s: Service): string | undefined {
  const u16 = (v: number) => v >= 0 && v <= 65535;
  if (!u16(s.port)) return `port ${s.port} is out of range`;
  if (!u16(s.priority)) return `priority ${s.priority} is out of range`;
  if (!u16(s.weight)) return `weight ${s.weight} is out of range`;
  if (s.ttl < 0 || s.ttl > 2 ** 31 - 1) return `ttl ${s.ttl} is out of range`;
  if (s.targetstrip < 0 || s.targetstrip > 127) return `targetstrip ${s.targetstrip} is out of range`;
  if (s.host.length > MAX_HOST) return `host is longer than ${MAX_HOST} characters`;
  if (s.text.length > MAX_TEXT) return `text is longer than ${MAX_TEXT} characters`;
  if (s.group.length > MAX_HOST) return `group is longer than ${MAX_HOST} characters`;
  const host = s.host.endsWith('.') ? s.host.slice(0, -1) : s.host;
  if (host !== '' && isIP(s.host) === 0 && !host.split('.').every((l) => HOST_LABEL.test(l))) return `host ${JSON.stringify(s.host.slice(0, 40))} is neither an IP address nor a DNS name`;
  return undefined;
}

/**
 * Puts one key's value into `tree`. A value that is not a SkyDNS record is reported and its key
 * removed (the old value is stale, and must not hide that the key is broken); returns whether it was put.
 */
export function putRecord(tree: ServiceTree, key: string, value: string, onBad: (key: string, reason: string) => void): boolean {
  let problem: string | undefined;
  try {
    const service = parseService(key, value);
    problem = recordProblem(service);
    if (problem === undefined) {
      tree.set(service);
      return true;
    }
  } catch (err) {
    // JSON.parse of a deeply nested value throws RangeError; anything thrown here is about this value.
    problem = (err as Error).message;
  }
  tree.delete(key);
  onBad(key, problem);
  return false;
}

export type ReloadReason = 'initial' | 'compacted';

/**
 * Events: 'change' (revision) after watch events are applied; 'reload' (revision, reason) after a
 * full get replaced the contents; 'disconnected' (error) and 'connected' as the watch goes and comes;
 * 'retrying' (error) when a read failed and will be tried again.
 */
export class EtcdMirror extends EventEmitter {
  /** The current contents. Replaced whole on a reload, changed in place by watch events. */
  tree: ServiceTree;
  /** The last etcd revision the contents reflect; 0 before the first get. */
  revision = 0;
  #synced = false;
  #connected = false;
  #closed = false;
  #wake: (() => void) | undefined;
  #abortWatch: (() => void) | undefined;
  readonly #client: Etcd3;
  readonly #prefix: string;
  readonly #opts: MirrorOptions;
  readonly #log: RateLimitedLog;
  #loop: Promise<void> | undefined;

  constructor(client: Etcd3, opts: MirrorOptions) {
    super();
    this.#client = client;
    this.#opts = opts;
    const base = normalizePath(opts.path);
    this.#prefix = base === '/' ? '/' : `${base}/`;
    this.tree = new ServiceTree(base);
    this.#log = new RateLimitedLog(opts.logIntervalMs ?? 30_000);
  }

  /** True once the first get has completed. */
  get synced(): boolean {
    return this.#synced;
  }
  get connected(): boolean {
    return this.#connected;
  }

  start(): void {
    this.#loop ??= this.#run();
  }

  /** Resolves true once synced; false after `timeoutMs`, or at once when a read failed and is being retried. */
  waitSynced(timeoutMs: number): Promise<boolean> {
    if (this.#synced) return Promise.resolve(true);
    return new Promise((resolve) => {
      const done = (ok: boolean): void => {
        clearTimeout(timer);
        this.off('reload', onReload);
        this.off('retrying', onRetry);
        resolve(ok);
      };
      const onReload = (): void => done(true);
      const onRetry = (): void => done(false);
      const timer = setTimeout(() => done(false), timeoutMs);
      this.on('reload', onReload);
      this.on('retrying', onRetry);
    });
  }

  async close(): Promise<void> {
    this.#closed = true;
    this.#wake?.();
    this.#abortWatch?.();
    await this.#loop;
  }

  async #run(): Promise<void> {
    let delay = 100;
    while (!this.#closed) {
      try {
        if (!this.#synced || this.revision === 0) await this.#load('initial');
        const outcome = await this.#watch();
        if (outcome === 'compacted') await this.#load('compacted');
        delay = 100;
      } catch (err) {
        if (this.#closed) break;
        this.#lost(err);
        this.emit('retrying', err);
        await this.#sleep(delay);
        delay = Math.min(delay * 2, this.#opts.backoffCapMs ?? 2000);
      }
    }
  }

  /** A full get of the prefix, swapped in whole so that a query never sees half of it. */
  async #load(reason: ReloadReason): Promise<void> {
    const res = await this.#client.getAll().prefix(this.#prefix).exec();
    const tree = new ServiceTree(this.tree.base);
    for (const kv of res.kvs) this.#put(tree, kv);
    this.tree = tree;
    this.revision = Number(res.header.revision);
    const first = !this.#synced;
    this.#synced = true;
    if (reason === 'compacted' || first) {
      this.#opts.logger.info(`${reason === 'compacted' ? 'watch revision compacted: reloaded' : 'loaded'} ${tree.size} keys under ${this.#prefix} at revision ${this.revision}`);
    }
    this.emit('reload', this.revision, reason);
  }

  /** Watches from revision + 1 until the watch is lost: 'disconnected' or 'compacted'. */
  #watch(): Promise<'disconnected' | 'compacted'> {
    return new Promise((resolve) => {
      const w = this.#client.watch().prefix(this.#prefix).startRevision(String(this.revision + 1)).watcher();
      let settled = false;
      const finish = (outcome: 'disconnected' | 'compacted'): void => {
        if (settled) return;
        settled = true;
        this.#abortWatch = undefined;
        if (this.#connected) {
          this.#connected = false;
          this.emit('disconnected', outcome);
        }
        // Cancelling a watcher that is not attached only drops it from the client's list; an
        // attached one waits for etcd's answer, which a dying connection may never send.
        const cancelled = w.cancel().catch(() => undefined);
        void Promise.race([cancelled, delay(1000)]).then(() => resolve(outcome));
      };
      w.on('connected', (created: IWatchResponse) => {
        if (settled) return;
        this.#connected = true;
        this.emit('connected');
        // A store whose revision went backwards was rebuilt (restored, or a new cluster): reload.
        if (Number(created.header.revision) < this.revision) finish('compacted');
      });
      w.on('data', (res: IWatchResponse) => {
        if (!settled) this.#apply(res);
      });
      w.on('disconnected', (err) => {
        // Before the watch was ever created the client keeps retrying by itself; say so once in a while.
        if (!this.#connected) this.#lost(err);
        else finish('disconnected');
      });
      // etcd cancels a watch whose start revision was compacted (3.4 gives no reason text), or one
      // that fell too far behind: either way the events in between are gone, so reload.
      w.on('error', () => finish('compacted'));
      w.on('end', () => finish('disconnected'));
      this.#abortWatch = () => finish('disconnected');
    });
  }

  #apply(res: IWatchResponse): void {
    if (res.events.length === 0) {
      // A progress notification: every event up to this revision has been sent.
      const rev = Number(res.header.revision);
      if (rev > this.revision) this.revision = rev;
      return;
    }
    let rev = this.revision;
    for (const ev of res.events) {
      const key = ev.kv.key.toString();
      if (ev.type === 'Put') this.#put(this.tree, ev.kv);
      else this.tree.delete(key);
      rev = Math.max(rev, Number(ev.kv.mod_revision));
    }
    this.revision = rev;
    this.emit('change', rev);
  }

  #put(tree: ServiceTree, kv: IKeyValue): void {
    putRecord(tree, kv.key.toString(), kv.value.toString(), (key, reason) => {
      this.#opts.onMalformed?.();
      const line = this.#log.line('bad', `skipped malformed record ${key}: ${reason}`);
      if (line) this.#opts.logger.warn(line);
    });
  }

  #lost(err: unknown): void {
    const line = this.#log.line(
      'lost',
      `cannot reach etcd (${(err as Error).message ?? String(err)}): serving ${this.tree.size} keys from revision ${this.revision}`,
    );
    if (line) this.#opts.logger.warn(line);
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const t = setTimeout(() => {
        this.#wake = undefined;
        resolve();
      }, ms);
      this.#wake = () => {
        clearTimeout(t);
        resolve();
      };
    });
  }
}

function delay(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms).unref());
}
