// Records from SkyDNS services, as CoreDNS's plugin/backend_lookup.go builds them for the etcd
// backend: A/AAAA (with CNAME chasing), TXT, CNAME, PTR, MX, SRV, NS and SOA.
import type { ResourceRecord, SOARecord } from '../../core/message.js';
import { trimDot } from '../../core/message.js';
import { isInZone } from '../../core/zones.js';
import { domainOf, group, hostKind, split255, targetStrip, type Service } from './msg.js';
import type { ServiceTree } from './store.js';

/** TTL of a service without one (CoreDNS's default). */
export const DEFAULT_TTL = 300;
/** Priority of a service without one. */
export const DEFAULT_PRIORITY = 10;
/** The SOA's TTL and minimum (CoreDNS's MinTTL for etcd). */
export const MIN_TTL = 30;

/** The name does not exist (CoreDNS's errKeyNotFound). */
export class NotFound extends Error {
  constructor() {
    super('key not found');
  }
}

/** Answers for names outside the zone (CNAME, SRV and MX targets), through the server itself. */
export type Resolve = (name: string, type: 'A' | 'AAAA' | 'TXT') => Promise<readonly ResourceRecord[] | undefined>;

export interface LookupContext {
  readonly tree: ServiceTree;
  /** The zone the query matched. */
  readonly zone: string;
  /** The query's type: it decides whether text-only services take part (CoreDNS's shouldInclude). */
  readonly qtype: string;
  readonly resolve?: Resolve;
  /** Set when an answer used an outside lookup, so it must not be kept. */
  external?: boolean;
}

const join = (...parts: string[]): string => parts.filter((p) => p !== '').join('.');

/** Lower-case, no trailing dot: how a host name is compared and written. */
const hostName = (host: string): string => trimDot(host.toLowerCase());

/**
 * The services of a name (CoreDNS's Services): the tree's lookup, defaults applied, text-only
 * services kept for TXT queries only, then grouped. Throws NotFound for a name that does not exist.
 */
export function services(ctx: LookupContext, name: string, exact: boolean): readonly Service[] {
  const found = ctx.tree.lookup(name, exact);
  if (found === undefined) throw new NotFound();
  const out: Service[] = [];
  for (const s of found) {
    if (!((ctx.qtype === 'TXT' && s.text !== '') || s.host !== '')) continue;
    out.push(s.ttl !== 0 && s.priority !== 0 ? s : { ...s, ttl: s.ttl || DEFAULT_TTL, priority: s.priority || DEFAULT_PRIORITY });
  }
  return group(out);
}

/** At the apex, the special apex.dns name holds the apex's addresses; failing that, the zone itself. */
function apexServices(ctx: LookupContext, name: string): readonly Service[] {
  if (name !== ctx.zone) return services(ctx, name, false);
  try {
    return services(ctx, join('apex.dns', ctx.zone), false);
  } catch (err) {
    if (!(err instanceof NotFound)) throw err;
  }
  try {
    return services(ctx, name, false);
  } catch (err) {
    // The apex always exists (it has the SOA): an empty zone answers NODATA, not NXDOMAIN.
    if (err instanceof NotFound) return [];
    throw err;
  }
}

/**
 * Follows a service whose host is a name: a CNAME, then the target's records, inside the zone
 * by recursion and outside it through `resolve`. Returns the records to add, or [] to skip it.
 */
async function chase(
  ctx: LookupContext, name: string, s: Service, previous: readonly ResourceRecord[], type: 'A' | 'AAAA' | 'TXT',
): Promise<ResourceRecord[]> {
  const target = hostName(s.host);
  // x CNAME x, and w.x CNAME x (the name's own subtree), are loops.
  if (isInZone(target, name)) return [];
  if (previous.length > 7) return [];
  if (previous.some((r) => r.type === 'CNAME' && r.data === target)) return [];
  const cname: ResourceRecord = { name, ttl: s.ttl, type: 'CNAME', data: target };
  if (isInZone(target, ctx.zone)) {
    try {
      const next = type === 'TXT' ? await txt(ctx, target, [...previous, cname]) : await address(ctx, target, type, [...previous, cname]);
      return next.length > 0 ? [cname, ...next] : [];
    } catch (err) {
      if (err instanceof NotFound) return [];
      throw err;
    }
  }
  if (!ctx.resolve) return [];
  ctx.external = true;
  const outside = await ctx.resolve(target, type);
  return outside === undefined ? [] : [cname, ...outside];
}

/** A or AAAA records of a name (CoreDNS's A and AAAA). */
export async function address(ctx: LookupContext, name: string, type: 'A' | 'AAAA', previous: readonly ResourceRecord[] = []): Promise<ResourceRecord[]> {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const s of apexServices(ctx, name)) {
    const kind = hostKind(s);
    if (kind === 'CNAME') out.push(...(await chase(ctx, name, s, previous, type)));
    else if (kind === type && !seen.has(s.host)) {
      seen.add(s.host);
      out.push({ name, ttl: s.ttl, type, data: s.host });
    }
  }
  return out;
}

export async function txt(ctx: LookupContext, name: string, previous: readonly ResourceRecord[] = []): Promise<ResourceRecord[]> {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const s of services(ctx, name, false)) {
    const kind = hostKind(s);
    if (kind === 'CNAME') out.push(...(await chase(ctx, name, s, previous, 'TXT')));
    else if (kind === 'TXT' && !seen.has(s.text)) {
      seen.add(s.text);
      out.push({ name, ttl: s.ttl, type: 'TXT', data: split255(s.text) });
    }
  }
  return out;
}

/** The first service of the name's own key, when its host is a name. */
export function cname(ctx: LookupContext, name: string): ResourceRecord[] {
  const [s] = services(ctx, name, true);
  if (!s || hostKind(s) === 'A' || hostKind(s) === 'AAAA') return [];
  return [{ name, ttl: s.ttl, type: 'CNAME', data: hostName(s.host) }];
}

export function ptr(ctx: LookupContext, name: string): ResourceRecord[] {
  const out: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const s of services(ctx, name, true)) {
    const kind = hostKind(s);
    if (kind === 'A' || kind === 'AAAA' || seen.has(s.host)) continue;
    seen.add(s.host);
    out.push({ name, ttl: s.ttl, type: 'PTR', data: hostName(s.host) });
  }
  return out;
}

export interface WithExtra {
  answer: ResourceRecord[];
  extra: ResourceRecord[];
}

/** Addresses of an SRV or MX target: in the zone from the tree, outside it through `resolve`. */
async function targetAddresses(ctx: LookupContext, target: string): Promise<ResourceRecord[]> {
  if (isInZone(target, ctx.zone)) {
    try {
      return await address({ ...ctx, qtype: 'A' }, target, 'A');
    } catch (err) {
      if (err instanceof NotFound) return [];
      throw err;
    }
  }
  if (!ctx.resolve) return [];
  ctx.external = true;
  const a = (await ctx.resolve(target, 'A')) ?? [];
  const aaaa = ((await ctx.resolve(target, 'AAAA')) ?? []).filter((r) => r.type !== 'CNAME');
  return [...a, ...aaaa];
}

/**
 * SRV records (CoreDNS's SRV): a host that is a name is the target; an address gets the key's name
 * as target and an address record in the additional section. Weights are split within a priority:
 * each service gets floor(100 * weight / sum of weights), a missing weight counting as 100.
 */
export async function srv(ctx: LookupContext, name: string): Promise<WithExtra> {
  const list = services(ctx, name, false);
  const total = new Map<number, number>();
  for (const s of list) total.set(s.priority, (total.get(s.priority) ?? 0) + (s.weight || 100));
  const answer: ResourceRecord[] = [];
  const extra: ResourceRecord[] = [];
  const dup = new Set<string>();
  const looked = new Set<string>();
  for (const s of list) {
    if (s.port === -1) continue; // "no port", as the kubernetes plugin writes it
    const weight = Math.max(1, Math.floor((100 / total.get(s.priority)!) * (s.weight || 100)));
    const kind = hostKind(s);
    if (kind === 'CNAME') {
      const target = targetStrip(hostName(s.host), s.targetstrip);
      answer.push(srvRecord(name, s, weight, target));
      if (looked.has(target)) continue;
      looked.add(target);
      extra.push(...(await targetAddresses(ctx, target)));
    } else if (kind === 'A' || kind === 'AAAA') {
      const target = targetStrip(domainOf(s.key, ctx.tree.base), s.targetstrip);
      if (!dup.has(`${target} ${s.port}`)) {
        dup.add(`${target} ${s.port}`);
        answer.push(srvRecord(name, s, weight, target));
      }
      if (!dup.has(`${target} @${s.host}`)) {
        dup.add(`${target} @${s.host}`);
        extra.push({ name: target, ttl: s.ttl, type: kind, data: s.host });
      }
    }
  }
  return { answer, extra };
}

function srvRecord(name: string, s: Service, weight: number, target: string): ResourceRecord {
  return { name, ttl: s.ttl, type: 'SRV', data: { priority: s.priority & 0xffff, weight: weight & 0xffff, port: s.port & 0xffff, target } };
}

/** MX records from the services with "mail": true; the priority is the preference. */
export async function mx(ctx: LookupContext, name: string): Promise<WithExtra> {
  const answer: ResourceRecord[] = [];
  const extra: ResourceRecord[] = [];
  const dup = new Set<string>();
  const looked = new Set<string>();
  for (const s of services(ctx, name, false)) {
    if (!s.mail) continue;
    const kind = hostKind(s);
    if (kind === 'CNAME') {
      const exchange = targetStrip(hostName(s.host), s.targetstrip);
      answer.push({ name, ttl: s.ttl, type: 'MX', data: { preference: s.priority & 0xffff, exchange } });
      if (looked.has(exchange)) continue;
      looked.add(exchange);
      extra.push(...(await targetAddresses(ctx, exchange)));
    } else if (kind === 'A' || kind === 'AAAA') {
      const exchange = targetStrip(domainOf(s.key, ctx.tree.base), s.targetstrip);
      if (!dup.has(`${exchange} ${s.priority}`)) {
        dup.add(`${exchange} ${s.priority}`);
        answer.push({ name, ttl: s.ttl, type: 'MX', data: { preference: s.priority & 0xffff, exchange } });
      }
      if (!dup.has(`${exchange} @${s.host}`)) {
        dup.add(`${exchange} @${s.host}`);
        extra.push({ name: exchange, ttl: s.ttl, type: kind, data: s.host });
      }
    }
  }
  return { answer, extra };
}

/** NS records of the zone: the addresses under ns.dns.ZONE, each key's name a name server. */
export function ns(ctx: LookupContext): WithExtra {
  const answer: ResourceRecord[] = [];
  const extra: ResourceRecord[] = [];
  const seen = new Set<string>();
  for (const s of services(ctx, join('ns.dns', ctx.zone), false)) {
    const kind = hostKind(s);
    if (kind !== 'A' && kind !== 'AAAA') throw new Error(`NS record must be an IP address: ${s.host}`);
    const server = targetStrip(domainOf(s.key, ctx.tree.base), s.targetstrip);
    extra.push({ name: server, ttl: s.ttl, type: kind, data: s.host });
    if (seen.has(server)) continue;
    seen.add(server);
    answer.push({ name: ctx.zone, ttl: s.ttl, type: 'NS', data: server });
  }
  return { answer, extra };
}

/** The zone's SOA, as CoreDNS synthesises it; the serial is the mirror's etcd revision. */
export function soa(zone: string, serial: number): SOARecord {
  return {
    name: zone, ttl: MIN_TTL, type: 'SOA',
    data: {
      mname: join('ns.dns', zone), rname: join('hostmaster', zone),
      serial: serial >>> 0, refresh: 7200, retry: 1800, expire: 86400, minimum: MIN_TTL,
    },
  };
}
