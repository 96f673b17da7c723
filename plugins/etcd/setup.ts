// etcd: Corefile parsing, the options schema, and setup (client, mirror, handler).
import { isAbsolute, resolve } from 'node:path';
import { expectArgs, expectNoBlock, fallthroughArg, unknownProperty, zonesArg, zonesOption } from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive, ParseContext } from '../../core/config/types.js';
import { makeQuery, messageOf } from '../../core/message.js';
import type { CheckContext, Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import { acquireShared } from '../pkg/shared.js';
import { createClient } from './client.js';
import { EtcdHandler } from './etcd.js';
import type { Resolve } from './lookup.js';
import { EtcdMirror } from './mirror.js';

const NAME = 'etcd';

export interface EtcdOptions {
  /** Zones the plugin is authoritative for; default: the server block's. */
  zones?: string[];
  /** Absent: never fall through; [] all zones. */
  fallthrough?: string[];
  /** The key prefix; default /skydns. */
  path?: string;
  /** etcd endpoints; default http://localhost:2379. */
  endpoint?: string[];
  credentials?: { username: string; password: string };
  /** [], [CACERT], [CERT, KEY] or [CERT, KEY, CACERT]. */
  tls?: string[];
  /** Accepted for CoreDNS compatibility: names outside the zones are always resolved through the server. */
  upstream?: string[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    fallthrough: { type: 'array', items: { type: 'string' } },
    path: { type: 'string', minLength: 1 },
    endpoint: { type: 'array', items: { type: 'string', pattern: '^https?://', description: 'must start with http:// or https://' }, minItems: 1 },
    credentials: {
      type: 'object',
      additionalProperties: false,
      required: ['username', 'password'],
      properties: { username: { type: 'string' }, password: { type: 'string' } },
    },
    tls: { type: 'array', items: { type: 'string' }, maxItems: 3 },
    upstream: { type: 'array', items: { type: 'string' } },
  },
};

const PROPERTIES = ['fallthrough', 'path', 'endpoint', 'credentials', 'upstream', 'tls'];

export function parse(d: Directive, ctx: ParseContext): EtcdOptions {
  const opts: EtcdOptions = {};
  if (d.args.length > 0) opts.zones = zonesArg(d.args, ctx, NAME);
  for (const p of d.block ?? []) {
    expectNoBlock(p, NAME);
    switch (p.name.text) {
      case 'fallthrough':
        opts.fallthrough = fallthroughArg(p.args, ctx, NAME);
        break;
      case 'path':
        opts.path = expectArgs(p, NAME, 1)[0]!.text;
        break;
      case 'endpoint':
        opts.endpoint = expectArgs(p, NAME, 1, Infinity).map((t) => {
          if (!/^https?:\/\//.test(t.text)) errorAt(t, NAME, `endpoint '${t.text}' must start with http:// or https://`, 'ERR_BAD_VALUE');
          return t.text;
        });
        break;
      case 'credentials': {
        const [user, pass] = expectArgs(p, NAME, 2);
        opts.credentials = { username: user!.text, password: pass!.text };
        break;
      }
      case 'tls':
        opts.tls = expectArgs(p, NAME, 0, 3).map((t) => t.text);
        break;
      case 'upstream':
        opts.upstream = p.args.map((t) => t.text);
        break;
      default:
        unknownProperty(p, NAME, PROPERTIES);
    }
  }
  return opts;
}

/** Zones and fallthrough zones canonical, for YAML options as for parsed ones. */
export function check(o: EtcdOptions, ctx: CheckContext): EtcdOptions {
  const zones = zonesOption(o.zones, ctx, ['zones'], NAME);
  const fallthrough = zonesOption(o.fallthrough, ctx, ['fallthrough'], NAME);
  return { ...o, ...(zones ? { zones } : {}), ...(fallthrough ? { fallthrough } : {}) };
}

/** Without fallthrough, every name in its zones is answered here. */
export function answers(o: EtcdOptions, ctx: ParseContext): readonly string[] {
  return o.fallthrough === undefined ? (o.zones ?? ctx.zones) : [];
}

/** How long setup waits for the first get (unless it fails) before letting the server start; queries get SERVFAIL until it loads. */
const SYNC_WAIT_MS = 5000;

export async function setup(options: EtcdOptions, env: SetupEnv): Promise<Handler> {
  const zones = (options.zones ?? env.zones).map(normalizeZone);
  const tls = options.tls?.map((f) => (isAbsolute(f) ? f : resolve(env.configDir, f)));
  // An unchanged source (endpoints, credentials, TLS, PATH) is carried across a reload: no new get.
  const key = JSON.stringify({ endpoint: options.endpoint, credentials: options.credentials, tls, path: options.path ?? '/skydns' });
  const shared = acquireShared(env.metrics, `etcd ${key}`, () => {
    const client = createClient({
      ...(options.endpoint ? { endpoints: options.endpoint } : {}),
      ...(options.credentials ? { username: options.credentials.username, password: options.credentials.password } : {}),
      ...(tls ? { tls } : {}),
    });
    const malformed = env.metrics.counter('coredns_etcd_malformed_records_total', 'Counter of etcd records skipped as malformed.');
    const mirror = new EtcdMirror(client, { path: options.path ?? '/skydns', logger: env.logger, onMalformed: () => malformed.inc() });
    mirror.on('connected', () => env.logger.debug('watching etcd'));
    mirror.start();
    return { client, mirror };
  }, async ({ client, mirror }) => {
    await mirror.close();
    client.close();
  });
  const { mirror } = shared.value;
  const handler = new EtcdHandler(zones, options.fallthrough?.map(normalizeZone), mirror, selfResolver(env));
  const invalidate = (): void => handler.invalidate();
  mirror.on('change', invalidate);
  mirror.on('reload', invalidate);
  if (!(await mirror.waitSynced(SYNC_WAIT_MS))) {
    env.logger.warn(`could not load ${options.path ?? '/skydns'} from etcd yet: answering SERVFAIL until it loads`);
  }
  return {
    serve: (req, next) => handler.serve(req, next),
    ready: () => mirror.synced,
    close: async () => {
      mirror.off('change', invalidate);
      mirror.off('reload', invalidate);
      await shared.release();
    },
  };
}

/** Names outside the zones (CNAME, SRV and MX targets) are looked up through the server itself. */
function selfResolver(env: SetupEnv): Resolve {
  return async (name, type) => {
    try {
      return messageOf(await env.resolve(makeQuery(name, type))).answer;
    } catch {
      return undefined;
    }
  };
}
