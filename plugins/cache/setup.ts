// cache: Corefile block → options, the options schema, and options → handler.
import { DURATION_PATTERN, durationArg, expectArgs, intArg, oneOf, parseDuration, unknownProperty, zonesArg } from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive, ParseContext, Token } from '../../core/config/types.js';
import { fqdn } from '../../core/message.js';
import type { SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import { Cache, type CacheConfig } from './cache.js';
import { CacheMetrics } from './metrics.js';

const NAME = 'cache';

export interface CacheLimitOptions {
  capacity: number;
  ttl?: number;
  minttl?: number;
}

export interface CacheOptions {
  /** Maximum TTL (seconds) of both caches. */
  ttl?: number;
  /** Zones to cache for; default: the server block's. */
  zones?: string[];
  success?: CacheLimitOptions;
  denial?: CacheLimitOptions;
  prefetch?: { amount: number; duration?: string; percentage?: number };
  serve_stale?: { duration?: string; refresh_mode?: 'immediate' | 'verify' };
  servfail?: string;
  disable?: { success?: string[]; denial?: string[] };
  keepttl?: boolean;
}

const PROPERTIES = ['success', 'denial', 'prefetch', 'serve_stale', 'servfail', 'disable', 'keepttl'] as const;

const limitSchema = {
  type: 'object',
  properties: {
    capacity: { type: 'integer', minimum: 1 },
    ttl: { type: 'integer', minimum: 1 },
    minttl: { type: 'integer', minimum: 0 },
  },
  required: ['capacity'],
  additionalProperties: false,
};

export const schema = {
  type: 'object',
  properties: {
    ttl: { type: 'integer', minimum: 1 },
    zones: { type: 'array', items: { type: 'string' } },
    success: limitSchema,
    denial: limitSchema,
    prefetch: {
      type: 'object',
      properties: {
        amount: { type: 'integer', minimum: 0 },
        duration: { type: 'string', pattern: DURATION_PATTERN },
        percentage: { type: 'integer', minimum: 10, maximum: 90 },
      },
      required: ['amount'],
      additionalProperties: false,
    },
    serve_stale: {
      type: 'object',
      properties: {
        duration: { type: 'string', pattern: DURATION_PATTERN },
        refresh_mode: { enum: ['immediate', 'verify'] },
      },
      additionalProperties: false,
    },
    servfail: { type: 'string', pattern: DURATION_PATTERN },
    disable: {
      type: 'object',
      properties: { success: { type: 'array', items: { type: 'string' } }, denial: { type: 'array', items: { type: 'string' } } },
      additionalProperties: false,
    },
    keepttl: { type: 'boolean' },
  },
  additionalProperties: false,
};

/** `cache [TTL] [ZONES...] { ... }` */
export function parse(d: Directive, ctx: ParseContext): CacheOptions {
  const opts: CacheOptions = {};
  let args = d.args;
  if (args.length > 0 && /^-?\d+$/.test(args[0]!.text)) {
    opts.ttl = positive(args[0]!, 'cache TTL can not be zero or negative');
    args = args.slice(1);
  }
  if (args.length > 0) opts.zones = zonesArg(args, ctx, NAME);
  for (const prop of d.block ?? []) parseProperty(prop, opts);
  return opts;
}

function parseProperty(prop: Directive, opts: CacheOptions): void {
  switch (prop.name.text) {
    case 'success':
    case 'denial': {
      const a = expectArgs(prop, NAME, 1, 3);
      const limits: CacheLimitOptions = { capacity: intArg(a[0]!, NAME, 1) };
      if (a[1]) limits.ttl = positive(a[1], 'cache TTL can not be zero or negative');
      if (a[2]) limits.minttl = intArg(a[2], NAME, 0);
      opts[prop.name.text] = limits;
      return;
    }
    case 'prefetch': {
      const a = expectArgs(prop, NAME, 1, 3);
      opts.prefetch = { amount: intArg(a[0]!, NAME, 0) };
      if (a[1]) opts.prefetch.duration = durationArg(a[1], NAME);
      if (a[2]) opts.prefetch.percentage = percentage(a[2]);
      return;
    }
    case 'serve_stale': {
      const a = expectArgs(prop, NAME, 0, 2);
      opts.serve_stale = {};
      if (a[0]) opts.serve_stale.duration = durationArg(a[0], NAME);
      if (a[1]) opts.serve_stale.refresh_mode = oneOf(a[1], NAME, ['immediate', 'verify'] as const);
      return;
    }
    case 'servfail': {
      const [tok] = expectArgs(prop, NAME, 1);
      const text = durationArg(tok!, NAME);
      // RFC 2308 7.1: a server failure may be cached for at most five minutes.
      if (parseDuration(text) > 300_000) errorAt(tok!, NAME, 'caching SERVFAIL responses over 5 minutes is not permitted', 'ERR_BAD_VALUE');
      opts.servfail = text;
      return;
    }
    case 'disable': {
      const a = expectArgs(prop, NAME, 1, Infinity);
      const which = oneOf(a[0]!, NAME, ['success', 'denial'] as const);
      opts.disable = { ...opts.disable, [which]: a.length > 1 ? a.slice(1).map((t) => normalizeZone(t.text)) : [''] };
      return;
    }
    case 'keepttl':
      expectArgs(prop, NAME, 0);
      opts.keepttl = true;
      return;
    default:
      unknownProperty(prop, NAME, PROPERTIES);
  }
}

function positive(tok: Token, message: string): number {
  const v = intArg(tok, NAME);
  if (v <= 0) errorAt(tok, NAME, `${message}: ${v}`, 'ERR_BAD_VALUE');
  return v;
}

function percentage(tok: Token): number {
  if (!tok.text.endsWith('%')) errorAt(tok, NAME, `last character of percentage should be '%', but is: '${tok.text.slice(-1)}'`, 'ERR_BAD_VALUE');
  const v = intArg({ ...tok, text: tok.text.slice(0, -1) }, NAME);
  if (v < 10 || v > 90) errorAt(tok, NAME, `percentage should fall in range [10, 90]: ${v}`, 'ERR_BAD_VALUE');
  return v;
}

const DEFAULT_CAPACITY = 10_000;

/** Options with CoreDNS's defaults applied. */
export function cacheConfig(o: CacheOptions, blockZones: readonly string[]): CacheConfig {
  return {
    zones: o.zones ? o.zones.map(normalizeZone) : [...blockZones],
    success: { capacity: o.success?.capacity ?? DEFAULT_CAPACITY, maxTtl: o.success?.ttl ?? o.ttl ?? 3600, minTtl: o.success?.minttl ?? 5 },
    denial: { capacity: o.denial?.capacity ?? DEFAULT_CAPACITY, maxTtl: o.denial?.ttl ?? o.ttl ?? 1800, minTtl: o.denial?.minttl ?? 5 },
    prefetch: o.prefetch?.amount ?? 0,
    prefetchDurationMs: parseDuration(o.prefetch?.duration ?? '1m'),
    prefetchPercentage: o.prefetch?.percentage ?? 10,
    staleUpToMs: o.serve_stale ? parseDuration(o.serve_stale.duration ?? '1h') : 0,
    verifyStale: o.serve_stale?.refresh_mode === 'verify',
    servfailTtl: Math.floor(parseDuration(o.servfail ?? '5s') / 1000),
    disable: { success: (o.disable?.success ?? []).map(normalizeZone), denial: (o.disable?.denial ?? []).map(normalizeZone) },
    keepttl: o.keepttl ?? false,
  };
}

/** The handler; `now` is the clock (tests pass a fake one). */
export function setup(o: CacheOptions, env: SetupEnv, now: () => number = Date.now): Cache {
  const config = cacheConfig(o, env.zones);
  const metrics = new CacheMetrics(env.metrics, config.zones.map(fqdn).join(','));
  return new Cache(config, metrics, env.logger, now);
}
