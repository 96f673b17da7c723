// kubernetes: Corefile parsing, the options schema, and setup (the index, its feed, the wait for sync).
import { readFileSync } from 'node:fs';
import { networkInterfaces } from 'node:os';
import { isAbsolute, resolve } from 'node:path';
import {
  DURATION_PATTERN, durationArg, expectArgs, fallthroughArg, intArg, oneOf, parseDuration, unknownProperty, zonesArg, zonesOption,
} from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive, ParseContext, Token } from '../../core/config/types.js';
import type { Message } from '../../core/message.js';
import type { CheckContext, Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import type { SharedHold } from '../pkg/shared.js';
import { isReverseZone, type PodMode } from './answers.js';
import type { Feed } from './feed.js';
import { startFileFeed } from './feed-files.js';
import { acquireSource, holdServing, markServing, type Source } from './feed-shared.js';
import { KubernetesHandler } from './kubernetes.js';
import { parseLabelSelector } from './labels.js';
import { ServiceIndex } from './service-index.js';

const NAME = 'kubernetes';

export interface KubernetesOptions {
  /** Zones the plugin is authoritative for; default: the server block's. */
  zones?: string[];
  /** The API server URL; absent (and no kubeconfig): in-cluster config. */
  endpoint?: string;
  /** CERT KEY CACERT for `endpoint`. */
  tls?: string[];
  /** FILE [CONTEXT]. */
  kubeconfig?: string[];
  namespaces?: string[];
  labels?: string;
  namespace_labels?: string;
  pods?: PodMode;
  endpoint_pod_names?: boolean;
  ttl?: number;
  noendpoints?: boolean;
  /** Absent: never; []: all zones. */
  fallthrough?: string[];
  ignore?: 'empty_service'[];
  startup_timeout?: string;
  /** Accepted for Corefile compatibility; client-node has no client-side rate limiter to set. */
  apiserver_qps?: number;
  apiserver_burst?: number;
  apiserver_max_inflight?: number;
  /** nodens: Kubernetes manifests (files or folders of YAML/JSON) watched on disk instead of an API server. */
  manifests?: string[];
}

const str = { type: 'string', minLength: 1 };
export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    endpoint: str,
    tls: { type: 'array', items: str, minItems: 3, maxItems: 3 },
    kubeconfig: { type: 'array', items: str, minItems: 1, maxItems: 2 },
    namespaces: { type: 'array', items: str, minItems: 1 },
    labels: { type: 'string' },
    namespace_labels: { type: 'string' },
    pods: { enum: ['disabled', 'insecure', 'verified'] },
    endpoint_pod_names: { type: 'boolean' },
    ttl: { type: 'integer', minimum: 0, maximum: 3600 },
    noendpoints: { type: 'boolean' },
    fallthrough: { type: 'array', items: { type: 'string' } },
    ignore: { type: 'array', items: { enum: ['empty_service'] } },
    startup_timeout: { type: 'string', pattern: DURATION_PATTERN },
    apiserver_qps: { type: 'number', minimum: 0 },
    apiserver_burst: { type: 'integer', minimum: 0 },
    apiserver_max_inflight: { type: 'integer', minimum: 0 },
    manifests: { type: 'array', items: str, minItems: 1 },
  },
};

const PROPERTIES = [
  'endpoint', 'tls', 'kubeconfig', 'namespaces', 'labels', 'namespace_labels', 'pods', 'endpoint_pod_names', 'ttl',
  'noendpoints', 'fallthrough', 'ignore', 'startup_timeout', 'apiserver_qps', 'apiserver_burst', 'apiserver_max_inflight', 'manifests',
];

/** CoreDNS parses apiserver_qps as a float32 (`50.0`) and wants it >= 0. */
function floatArg(tok: Token): number {
  const v = Number(tok.text);
  if (tok.text.trim() === '' || !Number.isFinite(v)) errorAt(tok, NAME, `apiserver_qps: '${tok.text}' is not a number`, 'ERR_BAD_VALUE');
  if (v < 0) errorAt(tok, NAME, 'apiserver_qps must be >= 0', 'ERR_BAD_VALUE');
  return v;
}

function selectorArg(p: Directive): string {
  const text = expectArgs(p, NAME, 1, Infinity).map((t) => t.text).join(' ');
  try {
    parseLabelSelector(text);
  } catch (err) {
    errorAt(p.args[0]!, NAME, `${p.name.text}: ${(err as Error).message}`, 'ERR_BAD_VALUE');
  }
  return text;
}

export function parse(d: Directive, ctx: ParseContext): KubernetesOptions {
  const opts: KubernetesOptions = {};
  if (d.args.length > 0) opts.zones = zonesArg(d.args, ctx, NAME);
  if ((opts.zones ?? ctx.zones).every(isReverseZone)) errorAt(d.name, NAME, 'at least one zone must be a non-reverse zone', 'ERR_BAD_VALUE');
  for (const p of d.block ?? []) {
    const args = p.args;
    switch (p.name.text) {
      case 'endpoint': opts.endpoint = expectArgs(p, NAME, 1, Infinity)[0]!.text; break;
      case 'tls': opts.tls = expectArgs(p, NAME, 3).map((t) => t.text); break;
      case 'kubeconfig': opts.kubeconfig = expectArgs(p, NAME, 1, 2).map((t) => t.text); break;
      case 'namespaces': opts.namespaces = expectArgs(p, NAME, 1, Infinity).map((t) => t.text); break;
      case 'labels': opts.labels = selectorArg(p); break;
      case 'namespace_labels': opts.namespace_labels = selectorArg(p); break;
      case 'pods': opts.pods = oneOf(expectArgs(p, NAME, 1)[0]!, NAME, ['disabled', 'insecure', 'verified'] as const); break;
      case 'endpoint_pod_names': expectArgs(p, NAME, 0); opts.endpoint_pod_names = true; break;
      case 'ttl': opts.ttl = intArg(expectArgs(p, NAME, 1)[0]!, NAME, 0, 3600); break;
      case 'noendpoints': expectArgs(p, NAME, 0); opts.noendpoints = true; break;
      case 'fallthrough': opts.fallthrough = fallthroughArg(args, ctx, NAME); break;
      // CoreDNS reads only the first argument (its setup tests accept `ignore empty_service more words`).
      case 'ignore': opts.ignore = [oneOf(expectArgs(p, NAME, 1, Infinity)[0]!, NAME, ['empty_service'] as const)]; break;
      case 'startup_timeout': opts.startup_timeout = durationArg(expectArgs(p, NAME, 1)[0]!, NAME); break;
      case 'apiserver_qps': opts.apiserver_qps = floatArg(expectArgs(p, NAME, 1)[0]!); break;
      case 'apiserver_burst': case 'apiserver_max_inflight':
        opts[p.name.text as 'apiserver_qps'] = intArg(expectArgs(p, NAME, 1)[0]!, NAME, 0);
        break;
      case 'manifests': opts.manifests = expectArgs(p, NAME, 1, Infinity).map((t) => t.text); break;
      case 'multicluster': case 'zonal':
        errorAt(p.name, NAME, `${p.name.text} is not supported by nodens`, 'ERR_BAD_VALUE');
        break;
      default:
        unknownProperty(p, NAME, PROPERTIES);
    }
  }
  if (opts.namespaces && opts.namespace_labels !== undefined) {
    const at = d.block!.find((p) => p.name.text === 'namespace_labels')!;
    errorAt(at.name, NAME, 'namespaces and namespace_labels cannot both be set', 'ERR_BAD_VALUE');
  }
  return opts;
}

/** Zones canonical (YAML too), and at least one of them a forward zone, as CoreDNS requires. */
export function check(o: KubernetesOptions, ctx: CheckContext): KubernetesOptions {
  const zones = zonesOption(o.zones, ctx, ['zones'], NAME);
  const fallthrough = zonesOption(o.fallthrough, ctx, ['fallthrough'], NAME);
  if (!(zones ?? ctx.zones).some((z) => !isReverseZone(z))) {
    errorAt(ctx.at(zones ? ['zones'] : []), NAME, 'at least one zone must be a non-reverse zone', 'ERR_BAD_VALUE');
  }
  return { ...o, ...(zones ? { zones } : {}), ...(fallthrough ? { fallthrough } : {}) };
}

/** Without fallthrough, every name in its zones is answered here. */
export function answers(o: KubernetesOptions, ctx: ParseContext): readonly string[] {
  return o.fallthrough === undefined ? (o.zones ?? ctx.zones) : [];
}

/** The search domains of /etc/resolv.conf (the last `search` or `domain` line wins, as in resolv.conf(5)); none if unreadable. */
export function resolvConfSearch(file = '/etc/resolv.conf'): string[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return [];
  }
  let out: string[] = [];
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.trim().split(/\s+/);
    if (key === 'search' || key === 'domain') out = rest.filter((d) => d !== '' && !d.startsWith('#') && !d.startsWith(';')).map(normalizeZone);
  }
  return out;
}

/** The addresses NS and ns.dns.ZONE answer with: the block's listen addresses, or the host's when it listens on all. */
function localIPs(env: SetupEnv): () => readonly string[] {
  let cached: string[] | undefined;
  return () => {
    if (cached) return cached;
    const bound = env.listen.map((l) => l.address).filter((a) => a !== '' && a !== '0.0.0.0' && a !== '::');
    const ips = bound.length > 0 ? bound : Object.values(networkInterfaces()).flat().filter((i) => i && !i.internal).map((i) => i!.address);
    cached = [...new Set(ips.length > 0 ? ips : ['127.0.0.1'])];
    return cached;
  };
}

/** The feed and index of the source the options name, shared with the generations that use the same one. */
async function acquireFeed(options: KubernetesOptions, env: SetupEnv, podMode: PodMode): Promise<SharedHold<Source>> {
  // CoreDNS's buckets: exponential from 1 ms, doubling 20 times.
  const programming = env.metrics.histogram('coredns_kubernetes_dns_programming_duration_seconds',
    'Histogram of the time (in seconds) it took to program a dns instance.', ['service_kind'],
    Array.from({ length: 20 }, (_, i) => 0.001 * 2 ** i));
  const malformed = env.metrics.counter('coredns_kubernetes_malformed_objects_total',
    'Counter of Kubernetes objects, watch events and lists skipped as malformed.', ['resource']);
  const rel = (f: string) => (isAbsolute(f) ? f : resolve(env.configDir, f));
  const feedOptions = {
    labels: options.labels,
    namespaceLabels: options.namespace_labels,
    endpoints: !options.noendpoints,
    pods: podMode === 'verified',
    podNames: options.endpoint_pod_names ?? false,
  };
  const apiOptions = {
    ...(options.endpoint ? { endpoint: options.endpoint } : {}),
    ...(options.tls ? { tls: options.tls.map(rel) as [string, string, string] } : {}),
    ...(options.kubeconfig ? { kubeconfig: rel(options.kubeconfig[0]!), ...(options.kubeconfig[1] ? { context: options.kubeconfig[1] } : {}) } : {}),
  };
  // Everything that decides what the feed and index hold: a reload with the same key keeps them (no relist).
  const key = JSON.stringify(options.manifests ? { ...feedOptions, manifests: options.manifests.map(rel) } : { ...feedOptions, ...apiOptions });
  // client-node is loaded only when a server talks to an API server.
  const startApiFeed = options.manifests ? undefined : (await import('./feed-api.js')).startApiFeed;
  return acquireSource(env.metrics, key, () => {
    const index = new ServiceIndex({
      endpointPodNames: options.endpoint_pod_names ?? false,
      onProgrammed: (serviceKind, seconds) => programming.observe({ service_kind: serviceKind }, seconds),
    });
    const onMalformed = (resource: string) => malformed.inc({ resource });
    const feed: Feed = startApiFeed
      ? startApiFeed(index, { ...feedOptions, ...apiOptions, onMalformed }, env.logger)
      : startFileFeed(index, { ...feedOptions, paths: options.manifests!.map(rel), onMalformed }, env.logger);
    return { index, feed };
  });
}

export async function setup(options: KubernetesOptions, env: SetupEnv): Promise<Handler> {
  const zones = (options.zones ?? env.zones).map(normalizeZone);
  const primaryZone = zones.find((z) => !isReverseZone(z));
  if (primaryZone === undefined) throw new Error('plugin/kubernetes: at least one zone must be a non-reverse zone');
  const podMode = options.pods ?? 'disabled';
  const mine = await acquireFeed(options, env, podMode);
  const { index } = mine.value;
  const zonesKey = zones.join(' ');
  // A reload to another source: answer from the data being served until the new index syncs.
  let previous = index.synced ? undefined : holdServing(env.metrics, zonesKey, mine.value);
  let closed = false;
  if (previous) {
    env.logger.info('the new Kubernetes source is not synced yet; answering from the previous data until it is');
  } else {
    const timeout = parseDuration(options.startup_timeout ?? '5s');
    if (!(await mine.value.feed.waitForSync(timeout))) env.logger.warn('starting server with unsynced Kubernetes API');
  }
  const cfg = {
    index: previous?.value.index ?? index,
    zones, primaryZone,
    ttl: options.ttl ?? 5,
    podMode,
    namespaces: options.namespaces ? new Set(options.namespaces) : undefined,
    ignoreEmptyService: options.ignore?.includes('empty_service') ?? false,
    fall: options.fallthrough?.map(normalizeZone),
    localIPs: localIPs(env),
    resolve: (q: Message) => env.resolve(q),
    autoPathSearch: resolvConfSearch(),
    close: async () => {
      closed = true;
      await previous?.release();
      await mine.release();
    },
  };
  const handler = new KubernetesHandler(cfg);
  void index.whenSynced().then(() => {
    if (closed) return;
    // From here on the handler answers from its own source.
    handler.useIndex(index);
    markServing(env.metrics, zonesKey, mine.value);
    if (previous) {
      env.logger.info('the new Kubernetes source is synced; answering from it');
      void previous.release();
      previous = undefined;
    }
  });
  return handler;
}
