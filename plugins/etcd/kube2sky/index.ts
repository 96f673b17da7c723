// kube2sky: watches Services and EndpointSlices through the kubernetes plugin's feed and writes SkyDNS
// records for them into etcd, for nodens (or CoreDNS) replicas that serve them with the etcd plugin.
import { createLogger, type Logger } from '../../../core/log.js';
import { normalizeZone } from '../../../core/zones.js';
import { startApiFeed, type ApiFeedOptions, type Feed } from '../../kubernetes/feed-api.js';
import { ServiceIndex, type ServiceIndexReader } from '../../kubernetes/service-index.js';
import { createClient, type ConnectionOptions } from '../client.js';
import { normalizePath } from '../msg.js';
import { Kube2SkySync } from './sync.js';

export interface Kube2SkyOptions {
  /** The cluster zone the records are written under. Default cluster.local. */
  readonly zone?: string;
  /** The etcd key prefix, the etcd plugin's `path`. Default /skydns. */
  readonly path?: string;
  /** TTL of the records, in seconds. Default 30 (kube2sky's). */
  readonly ttl?: number;
  /** How to reach etcd. Default http://localhost:2379. */
  readonly etcd?: ConnectionOptions;
  /** How to reach the API server (the kubernetes plugin's feed options). Default: in-cluster. */
  readonly kubernetes?: ApiFeedOptions;
  /** A Service index fed by someone else (tests, an embedding server): no feed is started. */
  readonly index?: ServiceIndexReader;
  /** etcd's --max-txn-ops. Default 128. */
  readonly maxTxnOps?: number;
  /** Full comparison with etcd every this many ms (0: only at start). Default 5 minutes. */
  readonly resyncMs?: number;
  readonly logger?: Logger;
}

export interface Kube2Sky {
  /** The writer: 'written' (namespace, name, revision, key) and 'synced' events. */
  readonly sync: Kube2SkySync;
  /** Resolves once nothing is left to write (the first full comparison included). */
  idle(): Promise<void>;
  stop(): Promise<void>;
}

/** Starts the sync; it runs until stop(). */
export function runKube2Sky(options: Kube2SkyOptions = {}): Kube2Sky {
  const logger = (options.logger ?? createLogger()).child('kube2sky');
  const client = createClient(options.etcd ?? {});
  let feed: Feed | undefined;
  let index = options.index;
  if (!index) {
    const own = new ServiceIndex();
    feed = startApiFeed(own, { pods: false, ...options.kubernetes }, logger);
    index = own;
  }
  const sync = new Kube2SkySync(client, index, {
    zone: normalizeZone(options.zone ?? 'cluster.local'),
    path: normalizePath(options.path ?? '/skydns'),
    ttl: options.ttl ?? 30,
    ...(options.maxTxnOps !== undefined ? { maxTxnOps: options.maxTxnOps } : {}),
    ...(options.resyncMs !== undefined ? { resyncMs: options.resyncMs } : {}),
  }, logger);
  sync.start();
  return {
    sync,
    idle: () => sync.idle(),
    stop: async () => {
      await feed?.stop();
      await sync.stop();
      client.close();
    },
  };
}
