// k8s_external: Corefile parsing (`k8s_external [ZONE...] { apex, ttl, headless, fallthrough }`), schema, setup.
import {
  expectArgs, fallthroughArg, intArg, normalizeZone, unknownProperty, zonesArg, type Directive, type Handler, type JsonSchema, type ParseContext, type SetupEnv,
} from 'nodens';
import { isExternalSource, K8sExternal, type ExternalSource } from './k8s_external.js';

const NAME = 'k8s_external';

export interface K8sExternalOptions {
  /** Default: the server block's zones. */
  zones?: string[];
  /** The label of the subdomain the NS records live in; default `dns`. */
  apex?: string;
  /** Default 5. */
  ttl?: number;
  /** Answer a headless Service (without external IPs) with its ready endpoints. */
  headless?: boolean;
  /** Absent: never; []: all zones. */
  fallthrough?: string[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    apex: { type: 'string', pattern: '^[A-Za-z0-9_-]{1,63}$' },
    ttl: { type: 'integer', minimum: 0, maximum: 3600 },
    headless: { type: 'boolean' },
    fallthrough: { type: 'array', items: { type: 'string' } },
  },
};

const PROPERTIES = ['apex', 'ttl', 'headless', 'fallthrough'];

export function parse(d: Directive, ctx: ParseContext): K8sExternalOptions {
  const opts: K8sExternalOptions = {};
  if (d.args.length > 0) opts.zones = zonesArg(d.args, ctx, NAME);
  for (const p of d.block ?? []) {
    switch (p.name.text) {
      case 'apex': opts.apex = expectArgs(p, NAME, 1)[0]!.text; break;
      case 'ttl': opts.ttl = intArg(expectArgs(p, NAME, 1)[0]!, NAME, 0, 3600); break;
      case 'headless': expectArgs(p, NAME, 0); opts.headless = true; break;
      case 'fallthrough': opts.fallthrough = fallthroughArg(p.args, ctx, NAME); break;
      default: unknownProperty(p, NAME, PROPERTIES);
    }
  }
  return opts;
}

export function setup(options: K8sExternalOptions, env: SetupEnv): Handler {
  // The kubernetes plugin is found once every plugin is set up; without it the zone is passed on.
  let source: ExternalSource | undefined;
  env.onStartup(() => {
    const inst = env.instances().find((i) => i.name === 'kubernetes');
    if (inst === undefined) return;
    if (isExternalSource(inst.handler)) source = inst.handler;
    else env.logger.error('kubernetes does not answer for external names');
  });
  return new K8sExternal({
    zones: (options.zones ?? env.zones).map(normalizeZone),
    apex: (options.apex ?? 'dns').toLowerCase(),
    ttl: options.ttl ?? 5,
    headless: options.headless ?? false,
    fall: options.fallthrough?.map(normalizeZone),
    source: () => source,
    resolve: (q) => env.resolve(q),
  });
}
