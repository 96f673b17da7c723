// acl's policies: an action for the queries whose type and source address match, first match wins.
import { typeCode, typeName } from 'nodens';
import { contains, parseNet, type Address, type Net } from './cidr.js';

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
  readonly nets: readonly Net[] | undefined;
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
  let nets: Net[] | undefined;
  if (p.nets && !p.nets.includes('*')) {
    nets = [];
    for (const n of p.nets) {
      const parsed = parseNet(n);
      if (!parsed) throw new Error(`illegal CIDR notation "${n}"`);
      nets.push(parsed);
    }
  }
  return { action: p.action, types, nets };
}

/** The action of the first policy matching the query type and source, or undefined when none does. */
export function matchPolicies(policies: readonly Policy[], qtype: string, source: Address): Action | undefined {
  for (const p of policies) {
    if (p.types && !p.types.has(qtype)) continue;
    if (p.nets && !containedIn(p.nets, source)) continue;
    return p.action;
  }
  return undefined;
}

function containedIn(nets: readonly Net[], source: Address): boolean {
  for (const n of nets) if (contains(n, source)) return true;
  return false;
}
