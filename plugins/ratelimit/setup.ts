// ratelimit: Corefile parsing (`ratelimit [ZONES...] { responses-per-second N ... }`, BIND's rate-limit
// options by name), the options schema, and setup (the limiter and its metrics).
import {
  ConfigError, errorAt, expectArgs, intArg, normalizeZone, unknownProperty, zonesArg, zonesOption, type CheckContext, type Directive, type Handler, type JsonSchema, type ParseContext, type SetupEnv,
} from 'nodens';
import { Limiter, parseNet } from './limiter.js';
import { Ratelimit } from './ratelimit.js';

const NAME = 'ratelimit';

export interface RatelimitOptions {
  /** Default: the server block's zones. */
  zones?: string[];
  responsesPerSecond?: number;
  window?: number;
  slip?: number;
  ipv4PrefixLength?: number;
  ipv6PrefixLength?: number;
  exempt?: string[];
  maxPrefixes?: number;
}

export const DEFAULTS = {
  responsesPerSecond: 20, window: 15, slip: 2, ipv4PrefixLength: 24, ipv6PrefixLength: 56, maxPrefixes: 100_000,
} as const;

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    responsesPerSecond: { type: 'integer', minimum: 1, maximum: 1_000_000 },
    window: { type: 'integer', minimum: 1, maximum: 3600 },
    slip: { type: 'integer', minimum: 0, maximum: 10 },
    ipv4PrefixLength: { type: 'integer', minimum: 0, maximum: 32 },
    ipv6PrefixLength: { type: 'integer', minimum: 0, maximum: 128 },
    exempt: { type: 'array', items: { type: 'string' } },
    maxPrefixes: { type: 'integer', minimum: 1, maximum: 10_000_000 },
  },
};

const NUMBERS: Record<string, [keyof RatelimitOptions, number, number]> = {
  'responses-per-second': ['responsesPerSecond', 1, 1_000_000],
  window: ['window', 1, 3600],
  slip: ['slip', 0, 10],
  'ipv4-prefix-length': ['ipv4PrefixLength', 0, 32],
  'ipv6-prefix-length': ['ipv6PrefixLength', 0, 128],
  'max-prefixes': ['maxPrefixes', 1, 10_000_000],
};
const PROPERTIES = [...Object.keys(NUMBERS), 'exempt'];

export function parse(d: Directive, ctx: ParseContext): RatelimitOptions {
  const zones = zonesArg(d.args, ctx, NAME);
  const out: RatelimitOptions = d.args.length > 0 ? { zones } : {};
  for (const prop of d.block ?? []) {
    const name = prop.name.text.toLowerCase();
    const num = NUMBERS[name];
    if (num) {
      const [key, min, max] = num;
      (out as Record<string, unknown>)[key] = intArg(expectArgs(prop, NAME, 1)[0]!, NAME, min, max);
    } else if (name === 'exempt') {
      const nets = expectArgs(prop, NAME, 1, Infinity);
      for (const t of nets) if (parseNet(t.text) === undefined) errorAt(t, NAME, `'${t.text}' is not an address or CIDR`, 'ERR_BAD_VALUE');
      out.exempt = [...(out.exempt ?? []), ...nets.map((t) => t.text)];
    } else {
      unknownProperty(prop, NAME, PROPERTIES);
    }
  }
  return out;
}

/** YAML options never pass through parse(): their exempt networks and zones are checked here. */
export function check(options: RatelimitOptions, ctx: CheckContext): RatelimitOptions {
  (options.exempt ?? []).forEach((n, i) => {
    if (parseNet(n) === undefined) throw new ConfigError(ctx.at(['exempt', i]), NAME, `'${n}' is not an address or CIDR`, 'ERR_BAD_VALUE');
  });
  const zones = zonesOption(options.zones, ctx, ['zones'], NAME);
  return zones ? { ...options, zones } : options;
}

export function setup(options: RatelimitOptions, env: SetupEnv): Handler {
  const dropped = env.metrics.counter('coredns_ratelimit_dropped_total', 'Counter of responses dropped by response-rate limiting.', ['server', 'zone']);
  const slipped = env.metrics.counter('coredns_ratelimit_slipped_total', 'Counter of responses answered with TC=1 instead (slip) by response-rate limiting.', ['server', 'zone']);
  const limiter = new Limiter({
    responsesPerSecond: options.responsesPerSecond ?? DEFAULTS.responsesPerSecond,
    window: options.window ?? DEFAULTS.window,
    slip: options.slip ?? DEFAULTS.slip,
    ipv4PrefixLength: options.ipv4PrefixLength ?? DEFAULTS.ipv4PrefixLength,
    ipv6PrefixLength: options.ipv6PrefixLength ?? DEFAULTS.ipv6PrefixLength,
    exempt: options.exempt ?? [],
    maxPrefixes: options.maxPrefixes ?? DEFAULTS.maxPrefixes,
  });
  const rl = new Ratelimit(options.zones?.map(normalizeZone) ?? env.zones, limiter, {
    dropped: (req) => dropped.inc({ server: req.server, zone: req.zone }),
    slipped: (req) => slipped.inc({ server: req.server, zone: req.zone }),
  });
  return { serve: (req, next) => rl.serve(req, next) };
}
