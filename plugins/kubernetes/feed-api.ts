// The API server feed: one client-node informer per resource (makeInformer's ListWatch, with a Watch that
// asks for bookmarks and a server-side timeout, and trims objects before the informer caches them), kept
// alive across errors: restarts with capped jittered backoff, a watchdog for silent watches, a stopping flag.
import http from 'node:http';
import https from 'node:https';
import type { KubeConfig, KubernetesListObject, KubernetesObject } from '@kubernetes/client-node';
// Deep imports: the package index (and its KubeConfig) loads the whole generated API, ~70 MB of RSS.
import { ListWatch } from '@kubernetes/client-node/dist/cache.js';
import { Watch } from '@kubernetes/client-node/dist/watch.js';
import { RateLimitedLog, type Logger } from '../../core/log.js';
import { endpointAccess, inClusterAccess, kubeconfigAccess, type ClusterAccess } from './cluster-access.js';
import { waitForSync, type Feed } from './feed.js';
import { TRIM, type KObject, type ResourceKind, type TrimOptions } from './objects.js';
import type { EventType, IndexSink } from './service-index.js';

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

/** GET a JSON document from the API server with the KubeConfig's credentials. */
async function getJson(access: ClusterAccess, path: string): Promise<Record<string, unknown>> {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  const url = new URL(cluster.server + path);
  const init = await access.applyToFetchOptions({});
  // KubeConfig hands out node-fetch Headers; our own access plain objects.
  const h = init.headers as { entries?: () => Iterable<[string, string]> } | Record<string, string> | undefined;
  const headers = h && typeof h.entries === 'function' ? Object.fromEntries((h as { entries(): Iterable<[string, string]> }).entries()) : (h as Record<string, string> | undefined);
  const opts: https.RequestOptions = { agent: init.agent as http.Agent, headers: { ...headers, Accept: 'application/json' } };
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, opts, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) {
          const err = Object.assign(new Error(`GET ${url.pathname}: HTTP ${res.statusCode}`), { statusCode: res.statusCode });
          reject(err);
          return;
        }
        try {
          resolve(JSON.parse(Buffer.concat(chunks).toString('utf8')) as Record<string, unknown>);
        } catch (err) {
          reject(err);
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${url.pathname}: timed out`)));
  });
}

/** Lists a resource page by page, trimming each item before the next page arrives. */
async function listAll(access: ClusterAccess, kind: ResourceKind, selector: string | undefined, pageSize: number, trim: TrimOptions): Promise<KubernetesListObject<KubernetesObject>> {
  const items: KObject[] = [];
  let cont = '';
  let resourceVersion = '';
  do {
    const q = new URLSearchParams({ limit: String(pageSize) });
    if (cont) q.set('continue', cont);
    if (selector) q.set('labelSelector', selector);
    if (kind === 'pods') q.set('fieldSelector', POD_PHASES);
    const page = await getJson(access, `${PATHS[kind]}?${q}`);
    for (const raw of (page.items as unknown[] | undefined) ?? []) items.push(TRIM[kind](raw, trim));
    const meta = (page.metadata ?? {}) as { continue?: string; resourceVersion?: string };
    cont = meta.continue ?? '';
    resourceVersion = meta.resourceVersion ?? resourceVersion;
  } while (cont);
  return { metadata: { resourceVersion }, items: items as KubernetesObject[] };
}

interface ResourceState {
  readonly kind: ResourceKind;
  informer?: ListWatch<KubernetesObject>;
  current?: AbortController;
  lastActivity: number;
  attempt: number;
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
  const started = Date.now();
  let stopping = false;
  let outage = false;

  const kinds: ResourceKind[] = ['services', 'namespaces'];
  if (options.endpoints ?? true) kinds.push('endpointslices');
  if (options.pods) kinds.push('pods');
  const selectors: Partial<Record<ResourceKind, string | undefined>> = {
    services: options.labels, endpointslices: options.labels, namespaces: options.namespaceLabels, pods: options.labels,
  };
  const states = kinds.map((kind): ResourceState => ({ kind, lastActivity: Date.now(), attempt: 0, synced: false, watchdogFired: false }));

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
    }
  };

  class FeedWatch extends Watch {
    constructor(private readonly s: ResourceState, resolved: ClusterAccess) {
      // Watch reads only getCurrentCluster() and applyToFetchOptions() of its config.
      super(resolved as unknown as KubeConfig);
    }
    override async watch(path: string, params: Record<string, string | number | boolean | undefined>, cb: (phase: string, obj: unknown, watchObj?: unknown) => void, done: (err: unknown) => void): Promise<AbortController> {
      const s = this.s;
      // Called right after the informer applied a list (or to resume a watch): its data is in the index.
      onSynced(s);
      s.lastActivity = Date.now();
      const query = { ...params, ...(s.kind === 'pods' ? { fieldSelector: POD_PHASES } : {}), allowWatchBookmarks: true, timeoutSeconds: timeoutSeconds + Math.floor(Math.random() * timeoutSeconds) };
      const onLine = (phase: string, obj: unknown, raw?: unknown): void => {
        s.lastActivity = Date.now();
        recovered(s);
        const trimmed = phase === 'ADDED' || phase === 'MODIFIED' || phase === 'DELETED' ? TRIM[s.kind](obj, trim) : obj;
        cb(phase, trimmed, raw);
      };
      const ctrl = await super.watch(path, query, onLine, done);
      // stop() may have run while the request was being set up: the informer would not know to abort it.
      if (stopping) ctrl.abort();
      else s.current = ctrl;
      return ctrl;
    }
  }

  const scheduleRestart = (s: ResourceState, err: unknown): void => {
    s.current = undefined;
    if (stopping || s.restartTimer) return;
    if (!s.watchdogFired) {
      outage = true;
      const line = outageLog.line('outage', `Kubernetes API connection failure: ${describe(err)}`);
      if (line) logger.warn(line);
    }
    const delay = s.watchdogFired ? 0 : Math.min(backoffMax, backoffInitial * 2 ** s.attempt) * (0.5 + Math.random() / 2);
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
      const list = await listAll(resolved, s.kind, selectors[s.kind], pageSize, trim);
      recovered(s);
      return list;
    };
    const informer = new ListWatch<KubernetesObject>(PATHS[s.kind], new FeedWatch(s, resolved), listFn, false, selectors[s.kind]);
    const apply = (type: EventType) => (obj: KubernetesObject) => index.apply(s.kind, type, obj as unknown as KObject);
    informer.on('add', apply('add'));
    informer.on('update', apply('update'));
    informer.on('delete', apply('delete'));
    // Any error but 410 stops a client-node informer for good, and so does stop(): restart unless stopping.
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
