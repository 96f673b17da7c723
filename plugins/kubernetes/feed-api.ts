// The API server feed: one informer per resource (list-watch.ts, client-node's ListWatch loop, over our own
// watch stream, feed-http.ts, that asks for bookmarks and a server-side timeout), kept alive across errors:
// restarts with capped jittered backoff, a watchdog for silent watches, a stopping flag. Every list item
// and watch event is checked (validate.ts) and trimmed before the informer caches it; what fails is
// counted, logged once per interval and skipped, and a stream that cannot be trusted is restarted.
import { RateLimitedLog, type Logger } from '../../core/log.js';
import { endpointAccess, inClusterAccess, kubeconfigAccess, type ClusterAccess } from './cluster-access.js';
import { getJson, watchLines, type WatchParams } from './feed-http.js';
import { MalformedReport, releaseMemory, waitForSync, type Feed, type MalformedCounter } from './feed.js';
import { ListWatch, type Informer, type ObjectList } from './list-watch.js';
import type { KObject, ResourceKind, TrimOptions } from './objects.js';
import type { EventType, IndexSink } from './service-index.js';
import { checkAndTrim, preview, typeName } from './validate.js';

export interface ApiFeedOptions {
  /** API server URL; with neither this nor kubeconfig: in-cluster config. */
  readonly endpoint?: string;
  /** CERT KEY CACERT files for `endpoint`. */
  readonly tls?: readonly [string, string, string];
  readonly kubeconfig?: string;
  readonly context?: string;
  /** A ready connection (a client-node KubeConfig fits); wins over the above. */
  readonly access?: ClusterAccess;
  /** Label selector for Services and EndpointSlices. */
  readonly labels?: string | undefined;
  /** Label selector for Namespaces. */
  readonly namespaceLabels?: string | undefined;
  /** Watch EndpointSlices (false: `noendpoints`). Default true. */
  readonly endpoints?: boolean;
  /** Watch Pods (`pods verified`). Default false. */
  readonly pods?: boolean;
  /** A watch with no event or bookmark for this long is re-established. Default 2 minutes. */
  readonly watchdogMs?: number;
  /** The server-side watch timeout asked for, in seconds (randomised up to twice this, as client-go does). Default 300. */
  readonly watchTimeoutSeconds?: number;
  readonly backoffInitialMs?: number;
  readonly backoffMaxMs?: number;
  /** An outage is logged at most once per this interval. Default 30 s. */
  readonly outageLogIntervalMs?: number;
  /** Keep endpoints' pod names in memory (`endpoint_pod_names`). Default false. */
  readonly podNames?: boolean;
  /** List page size (`limit`). Default 500. */
  readonly pageSize?: number;
  /** Counts each malformed object, event or list skipped (coredns_kubernetes_malformed_objects_total). */
  readonly onMalformed?: MalformedCounter;
  /** A watch line longer than this ends the stream. Default MAX_WATCH_LINE (16 MiB). */
  readonly maxWatchLineBytes?: number;
  /** A malformed-input line is logged at most once per this interval per resource. Default 30 s. */
  readonly malformedLogIntervalMs?: number;
}

const PATHS: Record<ResourceKind, string> = {
  services: '/api/v1/services',
  endpointslices: '/apis/discovery.k8s.io/v1/endpointslices',
  namespaces: '/api/v1/namespaces',
  pods: '/api/v1/pods',
};

/** CoreDNS's podListFunc/podWatchFunc: pods that are done or lost are not listed (the server filters). */
const POD_PHASES = 'status.phase!=Succeeded,status.phase!=Failed,status.phase!=Unknown';

/** The connection the options describe; in-cluster when they name none. A kubeconfig file loads asynchronously. */
export function clusterAccess(o: ApiFeedOptions): ClusterAccess | Promise<ClusterAccess> {
  if (o.access) return o.access;
  if (o.kubeconfig) return kubeconfigAccess(o.kubeconfig, o.context);
  if (o.endpoint) return endpointAccess(o.endpoint, o.tls);
  return inClusterAccess();
}

/** Lists a resource page by page, checking and trimming each item before the next page arrives. */
async function listAll(access: ClusterAccess, kind: ResourceKind, selector: string | undefined, pageSize: number, trim: TrimOptions, malformed: MalformedReport): Promise<ObjectList<KObject>> {
  const items: KObject[] = [];
  let cont = '';
  let resourceVersion = '';
  do {
    const q = new URLSearchParams({ limit: String(pageSize) });
    if (cont) q.set('continue', cont);
    if (selector) q.set('labelSelector', selector);
    if (kind === 'pods') q.set('fieldSelector', POD_PHASES);
    const page = checkListPage(await getJson(access, `${PATHS[kind]}?${q}`));
    if (typeof page === 'string') {
      malformed.report(kind, `list of ${kind}`, page);
      // Thrown to the informer: a page that is not a list is retried with backoff, like an HTTP error.
      throw new Error(`list of ${kind}: ${page}`);
    }
    for (const raw of page.items) {
      const item = checkAndTrim(kind, raw, trim);
      if (typeof item === 'string') malformed.report(kind, `${kind} item in a list`, item);
      else items.push(item);
    }
    cont = page.continue;
    resourceVersion = page.resourceVersion || resourceVersion;
  } while (cont);
  return { metadata: { resourceVersion }, items };
}

/** A list page's items and paging fields, or what is wrong with it. */
export function checkListPage(page: unknown): { items: unknown[]; continue: string; resourceVersion: string } | string {
  if (page === null || typeof page !== 'object' || Array.isArray(page)) return `expected a list object, got ${typeName(page)}`;
  const p = page as Record<string, unknown>;
  if (p.items !== undefined && p.items !== null && !Array.isArray(p.items)) return `items: expected a list, got ${typeName(p.items)}`;
  const meta = p.metadata ?? {};
  if (meta === null || typeof meta !== 'object' || Array.isArray(meta)) return `metadata: expected an object, got ${typeName(meta)}`;
  const { continue: cont = '', resourceVersion = '' } = meta as Record<string, unknown>;
  if (typeof cont !== 'string' || typeof resourceVersion !== 'string') return `metadata: continue and resourceVersion must be strings, got ${preview(meta)}`;
  return { items: (p.items as unknown[] | null | undefined) ?? [], continue: cont, resourceVersion };
}

/** Watch event types the informer understands. */
const EVENT_TYPES = new Set(['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR']);
/** Malformed events in one watch stream before it is no longer trusted. */
const MAX_MALFORMED_PER_STREAM = 10;

/**
 * A watch line as the informer may see it (type and a checked, trimmed object), or what is wrong with it.
 * ERROR and BOOKMARK events pass only the fields the informer reads.
 */
export function checkWatchEvent(kind: ResourceKind, data: unknown, trim: TrimOptions): { type: string; object: unknown } | string {
  if (data === null || typeof data !== 'object' || Array.isArray(data)) return `expected a watch event object, got ${typeName(data)}`;
  const { type, object } = data as Record<string, unknown>;
  if (typeof type !== 'string' || !EVENT_TYPES.has(type)) return `type: not a watch event type: ${preview(type)}`;
  if (object === null || typeof object !== 'object' || Array.isArray(object)) return `object: expected an object, got ${typeName(object)}`;
  const o = object as Record<string, unknown>;
  if (type === 'ERROR') return { type, object: typeof o.code === 'number' ? { code: o.code } : {} };
  if (type === 'BOOKMARK') {
    const rv = (o.metadata as Record<string, unknown> | null | undefined)?.resourceVersion;
    return typeof rv === 'string' && rv.length <= 64 ? { type, object: { metadata: { resourceVersion: rv } } } : `BOOKMARK without a resourceVersion: ${preview(o.metadata)}`;
  }
  const checked = checkAndTrim(kind, object, trim, type === 'DELETED');
  return typeof checked === 'string' ? checked : { type, object: checked };
}

/** Thrown by a watch line handler to end a stream it no longer trusts. */
export class UntrustedStream extends Error {}

/**
 * The feed's handling of watch lines, one resource: each well-formed event goes to `deliver` (the
 * informer) with its object checked and trimmed; a malformed one is reported and skipped; a line that is
 * not JSON, or the MAX_MALFORMED_PER_STREAM-th malformed event, throws UntrustedStream.
 */
export function watchLineHandler(kind: ResourceKind, trim: TrimOptions, malformed: MalformedReport, deliver: (type: string, object: unknown, raw: unknown) => void): (line: string) => void {
  let strikes = 0;
  return (line) => {
    if (line.trim() === '') return;
    let data: unknown;
    try {
      data = JSON.parse(line);
    } catch {
      malformed.report(kind, `watch line of ${kind}`, `not JSON: ${preview(line)}`);
      throw new UntrustedStream(`watch of ${kind} is not trusted any more: a line that is not JSON`);
    }
    const event = checkWatchEvent(kind, data, trim);
    if (typeof event === 'string') {
      malformed.report(kind, `watch event of ${kind}`, event);
      if (++strikes >= MAX_MALFORMED_PER_STREAM) throw new UntrustedStream(`watch of ${kind} is not trusted any more: ${strikes} malformed events`);
      return;
    }
    deliver(event.type, event.object, data);
  };
}

/** Passes an informer's add/update/delete to the index; what the index throws is reported, not thrown into the informer. */
export function connectIndex<T>(informer: Informer<T>, kind: ResourceKind, index: IndexSink, malformed: MalformedReport): void {
  const apply = (type: EventType) => (obj: T) => {
    try {
      index.apply(kind, type, obj as unknown as KObject);
    } catch (err) {
      malformed.report(kind, `${kind} object`, `the index refused it: ${describe(err)}`);
    }
  };
  informer.on('add', apply('add'));
  informer.on('update', apply('update'));
  informer.on('delete', apply('delete'));
}

interface ResourceState {
  readonly kind: ResourceKind;
  informer?: ListWatch<KObject>;
  current?: AbortController;
  lastActivity: number;
  attempt: number;
  /** Streams ended in a row because they could not be trusted: backs off even when each sent some good events. */
  distrusted: number;
  synced: boolean;
  restartTimer?: NodeJS.Timeout;
  watchdogFired: boolean;
}

/** Starts list+watch of the resources into `index`; see ApiFeedOptions. */
export function startApiFeed(index: IndexSink, options: ApiFeedOptions, logger: Logger): Feed {
  const access = clusterAccess(options);
  const watchdogMs = options.watchdogMs ?? 120_000;
  const timeoutSeconds = options.watchTimeoutSeconds ?? 300;
  const backoffInitial = options.backoffInitialMs ?? 500;
  const backoffMax = options.backoffMaxMs ?? 30_000;
  const pageSize = options.pageSize ?? 500;
  const trim: TrimOptions = { podNames: options.podNames ?? false };
  const outageLog = new RateLimitedLog(options.outageLogIntervalMs ?? 30_000);
  const malformed = new MalformedReport(logger, options.onMalformed, options.malformedLogIntervalMs);
  const started = Date.now();
  let stopping = false;
  let outage = false;

  const kinds: ResourceKind[] = ['services', 'namespaces'];
  if (options.endpoints ?? true) kinds.push('endpointslices');
  if (options.pods) kinds.push('pods');
  const selectors: Partial<Record<ResourceKind, string | undefined>> = {
    services: options.labels, endpointslices: options.labels, namespaces: options.namespaceLabels, pods: options.labels,
  };
  const states = kinds.map((kind): ResourceState => ({ kind, lastActivity: Date.now(), attempt: 0, distrusted: 0, synced: false, watchdogFired: false }));

  const recovered = (s: ResourceState): void => {
    s.attempt = 0;
    if (outage) {
      outage = false;
      logger.info('Kubernetes API connection restored');
    }
  };

  const onSynced = (s: ResourceState): void => {
    if (s.synced) return;
    s.synced = true;
    if (states.every((x) => x.synced)) {
      index.markSynced();
      logger.info(`synced ${kinds.join(', ')} in ${((Date.now() - started) / 1000).toFixed(2)}s`);
      // Once the lists are garbage (after this turn), and before the server answers its first query.
      setImmediate(() => {
        if (!stopping) releaseMemory(states.reduce((n, x) => n + (x.informer?.size ?? 0), 0));
      });
    }
  };

  /**
   * What the informer (ListWatch) calls to watch: asks for bookmarks and a server-side timeout, and lets
   * through only well-formed events with checked, trimmed objects. A malformed event is counted, logged and
   * skipped; a line that is not JSON, or too many malformed events, ends the stream (restarted with backoff).
   */
  const watcher = (s: ResourceState, resolved: ClusterAccess) => ({
    watch: async (path: string, params: WatchParams, cb: (phase: string, obj: unknown, watchObj?: unknown) => unknown, done: (err: unknown) => unknown): Promise<AbortController> => {
      // Called right after the informer applied a list (or to resume a watch): its data is in the index.
      onSynced(s);
      s.lastActivity = Date.now();
      const query = { ...params, ...(s.kind === 'pods' ? { fieldSelector: POD_PHASES } : {}), allowWatchBookmarks: true, timeoutSeconds: timeoutSeconds + Math.floor(Math.random() * timeoutSeconds) };
      const onLine = watchLineHandler(s.kind, trim, malformed, (type, object, raw) => {
        s.lastActivity = Date.now();
        recovered(s);
        // ListWatch's handler is async: what it throws would be an unhandled rejection, so it ends the stream.
        const pending = cb(type, object, raw);
        if (pending instanceof Promise) pending.catch((err: unknown) => ctrl?.abort(err));
      });
      const settle = (err: unknown): void => {
        if (err === null) s.distrusted = 0;
        else if (err instanceof UntrustedStream) s.distrusted++;
        const pending = done(err);
        if (pending instanceof Promise) pending.catch((e: unknown) => scheduleRestart(s, e));
      };
      const ctrl: AbortController | undefined = await watchLines(resolved, path, query, onLine, settle, options.maxWatchLineBytes);
      // stop() may have run while the request was being set up: the informer would not know to abort it.
      if (stopping) ctrl.abort();
      else s.current = ctrl;
      return ctrl;
    },
  });

  const scheduleRestart = (s: ResourceState, err: unknown): void => {
    s.current = undefined;
    if (stopping || s.restartTimer) return;
    if (!s.watchdogFired) {
      outage = true;
      const line = outageLog.line('outage', `Kubernetes API connection failure: ${describe(err)}`);
      if (line) logger.warn(line);
    }
    const delay = s.watchdogFired ? 0 : Math.min(backoffMax, backoffInitial * 2 ** Math.max(s.attempt, s.distrusted)) * (0.5 + Math.random() / 2);
    s.watchdogFired = false;
    s.attempt = Math.min(s.attempt + 1, 30);
    s.restartTimer = setTimeout(() => {
      s.restartTimer = undefined;
      if (!stopping) void s.informer!.start().catch((e: unknown) => scheduleRestart(s, e));
    }, delay);
  };

  const startInformers = (resolved: ClusterAccess): void => {
    for (const s of states) startInformer(s, resolved);
  };
  const startInformer = (s: ResourceState, resolved: ClusterAccess): void => {
    if (stopping) return;
    const listFn = async () => {
      const list = await listAll(resolved, s.kind, selectors[s.kind], pageSize, trim, malformed);
      recovered(s);
      return list;
    };
    const informer = new ListWatch<KObject>(PATHS[s.kind], watcher(s, resolved), listFn, selectors[s.kind]);
    connectIndex(informer, s.kind, index, malformed);
    // Any error but 410 stops an informer for good (as client-node's), and so does stop(): restart unless stopping.
    informer.on('error', (err: unknown) => scheduleRestart(s, err));
    s.informer = informer;
    void informer.start().catch((err: unknown) => scheduleRestart(s, err));
  };
  if (access instanceof Promise) {
    access.then(startInformers, (err: unknown) => logger.error(`cannot load the kubeconfig: ${describe(err)}`));
  } else {
    startInformers(access);
  }

  const watchdog = setInterval(() => {
    const now = Date.now();
    for (const s of states) {
      if (!s.current || now - s.lastActivity < watchdogMs) continue;
      logger.info(`watch of ${s.kind} silent for ${Math.round((now - s.lastActivity) / 1000)}s; re-establishing it`);
      s.watchdogFired = true;
      s.lastActivity = now;
      s.current.abort();
    }
  }, Math.max(50, Math.min(watchdogMs / 4, 10_000)));
  watchdog.unref();

  return {
    waitForSync: (ms) => waitForSync(index, ms, logger),
    async stop() {
      stopping = true;
      clearInterval(watchdog);
      for (const s of states) {
        clearTimeout(s.restartTimer);
        await s.informer?.stop();
        s.current?.abort();
      }
    },
  };
}

function describe(err: unknown): string {
  if (err instanceof Error) return (err as Error & { code?: string }).code ? `${err.message} (${(err as Error & { code?: string }).code})` : err.message;
  return String(err);
}

export { waitForSync, type Feed };
