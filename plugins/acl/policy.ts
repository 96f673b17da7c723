// acl's policies: an action for the queries whose type and source address match, first match wins.
import { BlockList, isIPv4, isIPv6 } from 'node:net';
import { typeCode, typeName } from 'nodens';

export type Action = 'allow' | 'block' | 'filter' | 'drop';

/** One `ACTION [type QTYPE...] [net SOURCE...]` line, as options (YAML writes the same). */
export interface PolicyOptions {
  readonly action: Action;
  /** Query types; omitted or containing '*': every type. */
  readonly types?: readonly string[];
  /** Source addresses and CIDRs; omitted or containing '*': every address. */
  readonly nets?: readonly string[];
}

export interface Policy {
  readonly action: Action;
  /** Type names as a Request spells them ('TYPE29' for LOC); undefined: every type. */
  readonly types: ReadonlySet<string> | undefined;
  /** undefined: every address. */
  readonly nets: BlockList | undefined;
}

/** A CIDR (or single address) as [address, prefix, family], or undefined when it is not one (CoreDNS: net.ParseCIDR). */
export function parseNet(text: string): [string, number, 'ipv4' | 'ipv6'] | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const family = isIPv4(address) ? 'ipv4' : isIPv6(address) && !address.includes('%') ? 'ipv6' : undefined;
  if (!family) return undefined;
  const max = family === 'ipv4' ? 32 : 128;
  if (slash < 0) return [address, max, family];
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return [address, Number(bits), family];
}

/** The name a Request carries for a type ('LOC' → 'TYPE29'), or undefined for no such type. */
export function requestTypeName(type: string): string | undefined {
  try {
    return typeName(typeCode(type));
  } catch {
    return undefined;
  }
}

export function compilePolicy(p: PolicyOptions): Policy {
  let types: Set<string> | undefined;
  if (p.types && !p.types.includes('*')) {
    types = new Set();
    for (const t of p.types) {
      const name = requestTypeName(t);
      if (!name) throw new Error(`unexpected token "${t}"; expect legal QTYPE`);
      types.add(name);
    }
  }
  let nets: BlockList | undefined;
  if (p.nets && !p.nets.includes('*')) {
    nets = new BlockList();
    for (const n of p.nets) {
      const parsed = parseNet(n);
      if (!parsed) throw new Error(`illegal CIDR notation "${n}"`);
      nets.addSubnet(...parsed);
    }
  }
  return { action: p.action, types, nets };
}

/** A client address as BlockList checks it: IPv4-mapped IPv6 (a dual-stack socket) as IPv4, no %zone. */
export function sourceAddress(address: string): [string, 'ipv4' | 'ipv6'] | undefined {
  const zone = address.indexOf('%');
  const bare = zone >= 0 ? address.slice(0, zone) : address;
  if (isIPv4(bare)) return [bare, 'ipv4'];
  if (bare.length > 7 && bare.slice(0, 7).toLowerCase() === '::ffff:' && isIPv4(bare.slice(7))) return [bare.slice(7), 'ipv4'];
  if (isIPv6(bare)) return [bare, 'ipv6'];
  return undefined;
}

/** The action of the first policy matching the query type and source, or undefined when none does. */
export function matchPolicies(policies: readonly Policy[], qtype: string, source: readonly [string, 'ipv4' | 'ipv6']): Action | undefined {
  for (const p of policies) {
    if (p.types && !p.types.has(qtype)) continue;
    if (p.nets && !p.nets.check(source[0], source[1])) continue;
    return p.action;
  }
  return undefined;
}
