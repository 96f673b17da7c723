// forward: Corefile block → options, the options schema, and options → handler.
import { DURATION_PATTERN, durationArg, expectArgs, intArg, oneOf, parseDuration, unknownProperty } from '../../core/config/args.js';
import { ConfigError, errorAt } from '../../core/config/errors.js';
import type { Directive, ParseContext } from '../../core/config/types.js';
import { cidrToReverseZones } from '../../core/ip.js';
import type { CheckContext, SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import { Forward } from './forward.js';
import { ForwardMetrics } from './metrics.js';
import { makePolicy, type PolicyName } from './policy.js';
import { MAX_UPSTREAMS, resolveTo, type Endpoint } from './to.js';
import { UDP_DEFAULTS } from './udp-pool.js';
import { Upstream } from './upstream.js';

const NAME = 'forward';

export interface ForwardOptions {
  from: string;
  /** IP[:PORT], dns://IP[:PORT], or a resolv.conf-style file. */
  to: string[];
  except?: string[];
  force_tcp?: boolean;
  prefer_udp?: boolean;
  expire?: string;
  max_fails?: number;
  health_check?: { duration?: string; no_rec?: boolean; domain?: string };
  policy?: PolicyName;
  max_concurrent?: number;
  /** Send the question name as the client wrote it (no 0x20), for upstreams that do not echo its case. */
  no_case_randomization?: boolean;
}

const PROPERTIES = ['except', 'force_tcp', 'prefer_udp', 'expire', 'max_fails', 'health_check', 'policy', 'max_concurrent', 'no_case_randomization'] as const;

export const schema = {
  type: 'object',
  properties: {
    from: { type: 'string' },
    to: { type: 'array', items: { type: 'string' }, minItems: 1 },
    except: { type: 'array', items: { type: 'string' } },
    force_tcp: { type: 'boolean' },
    prefer_udp: { type: 'boolean' },
    expire: { type: 'string', pattern: DURATION_PATTERN },
    max_fails: { type: 'integer', minimum: 0 },
    health_check: {
      type: 'object',
      properties: { duration: { type: 'string', pattern: DURATION_PATTERN }, no_rec: { type: 'boolean' }, domain: { type: 'string' } },
      additionalProperties: false,
    },
    policy: { enum: ['random', 'round_robin', 'sequential'] },
    max_concurrent: { type: 'integer', minimum: 0 },
    no_case_randomization: { type: 'boolean' },
  },
  required: ['from', 'to'],
  additionalProperties: false,
};

/** `forward FROM TO... { ... }` */
export function parse(d: Directive, ctx: ParseContext): ForwardOptions {
  const args = expectArgs(d, NAME, 2, Infinity);
  const from = args[0]!;
  const opts: ForwardOptions = { from: fromZone(from.text) ?? errorAt(from, NAME, `'${from.text}' is not a valid CIDR`), to: [] };
  let count = 0;
  for (const tok of args.slice(1)) {
    const r = resolveTo(tok.text, ctx.configDir);
    if ('error' in r) errorAt(tok, NAME, r.error, 'ERR_BAD_VALUE');
    count += r.endpoints.length;
    if (count > MAX_UPSTREAMS) errorAt(tok, NAME, `more than ${MAX_UPSTREAMS} TOs configured: ${count}`, 'ERR_BAD_VALUE');
    opts.to.push(tok.text);
  }
  for (const prop of d.block ?? []) parseProperty(prop, opts);
  return opts;
}

/** FROM: a zone, or a CIDR whose first reverse zone is used (as CoreDNS does). */
function fromZone(text: string): string | undefined {
  return text.includes('/') ? cidrToReverseZones(text)?.[0] : normalizeZone(text);
}

function parseProperty(prop: Directive, opts: ForwardOptions): void {
  const name = prop.name.text;
  switch (name) {
    case 'except':
      opts.except = expectArgs(prop, NAME, 1, Infinity).map((t) => normalizeZone(t.text));
      return;
    case 'force_tcp':
    case 'prefer_udp':
    case 'no_case_randomization':
      expectArgs(prop, NAME, 0);
      opts[name] = true;
      return;
    case 'expire':
      opts.expire = durationArg(expectArgs(prop, NAME, 1)[0]!, NAME);
      return;
    case 'max_fails':
      opts.max_fails = intArg(expectArgs(prop, NAME, 1)[0]!, NAME, 0);
      return;
    case 'max_concurrent':
      opts.max_concurrent = intArg(expectArgs(prop, NAME, 1)[0]!, NAME, 0);
      return;
    case 'policy':
      opts.policy = oneOf(expectArgs(prop, NAME, 1)[0]!, NAME, ['random', 'round_robin', 'sequential'] as const);
      return;
    case 'health_check': {
      const a = expectArgs(prop, NAME, 1, 4);
      const hc: NonNullable<ForwardOptions['health_check']> = { duration: durationArg(a[0]!, NAME) };
      for (let i = 1; i < a.length; i++) {
        const tok = a[i]!;
        if (tok.text === 'no_rec') hc.no_rec = true;
        else if (tok.text === 'domain' && a[i + 1]) hc.domain = normalizeZone(a[++i]!.text);
        else errorAt(tok, NAME, `health_check: unexpected '${tok.text}' (want no_rec or domain FQDN)`, 'ERR_BAD_VALUE');
      }
      opts.health_check = hc;
      return;
    }
    default:
      unknownProperty(prop, NAME, PROPERTIES);
  }
}

/** What parse() checks of TO, for YAML options too: each an address or a readable resolv.conf. */
export function check(o: ForwardOptions, ctx: CheckContext): ForwardOptions {
  const from = fromZone(o.from);
  if (from === undefined) errorAt(ctx.at(['from']), NAME, `'${o.from}' is not a valid CIDR`, 'ERR_BAD_VALUE');
  let count = 0;
  o.to.forEach((to, i) => {
    const r = resolveTo(to, ctx.configDir);
    if ('error' in r) errorAt(ctx.at(['to', i]), NAME, r.error, 'ERR_BAD_VALUE');
    count += r.endpoints.length;
  });
  if (count > MAX_UPSTREAMS) errorAt(ctx.at(['to']), NAME, `more than ${MAX_UPSTREAMS} TOs configured: ${count}`, 'ERR_BAD_VALUE');
  return { ...o, from, ...(o.except ? { except: o.except.map(normalizeZone) } : {}) };
}

/** Every name under FROM (but the except ones) gets forward's answer. */
export function answers(o: ForwardOptions): readonly string[] {
  return o.except && o.except.length > 0 ? [] : [o.from];
}

/** The handler; health checks start at the first failure of an upstream. */
export function setup(o: ForwardOptions, env: SetupEnv): Forward {
  const endpoints: Endpoint[] = [];
  for (const to of o.to) {
    const r = resolveTo(to, env.configDir);
    if ('error' in r) throw new ConfigError(undefined, NAME, r.error, 'ERR_BAD_VALUE');
    endpoints.push(...r.endpoints);
  }
  if (endpoints.length > MAX_UPSTREAMS) throw new ConfigError(undefined, NAME, `more than ${MAX_UPSTREAMS} TOs configured: ${endpoints.length}`);
  const metrics = new ForwardMetrics(env.metrics);
  const health = {
    // A zero interval would probe a dead upstream in a tight loop.
    intervalMs: Math.max(10, parseDuration(o.health_check?.duration ?? '0.5s')),
    recursionDesired: !(o.health_check?.no_rec ?? false),
    domain: normalizeZone(o.health_check?.domain ?? ''),
    tcp: o.force_tcp ?? false,
  };
  const expireMs = parseDuration(o.expire ?? '10s');
  const udp = { ...UDP_DEFAULTS, randomizeCase: !(o.no_case_randomization ?? false) };
  const upstreams = endpoints.map((to) => new Upstream(to, expireMs, health, metrics.hooksFor(to.name), udp));
  const config = {
    from: fromZone(o.from) ?? normalizeZone(o.from),
    except: (o.except ?? []).map(normalizeZone),
    forceTcp: o.force_tcp ?? false,
    // force_tcp takes precedence over prefer_udp.
    preferUdp: (o.prefer_udp ?? false) && !(o.force_tcp ?? false),
    maxFails: o.max_fails ?? 2,
    maxConcurrent: o.max_concurrent ?? 0,
  };
  return new Forward(config, upstreams, makePolicy(o.policy ?? 'random'), metrics, env.logger);
}
