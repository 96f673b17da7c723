// Parsing /etc/hosts-style text and building the lookup index: answers are prebuilt per name, so a
// query costs one map lookup.
import { bytesToIPv6, ipv6ToBytes, isIPv4, isIPv6, reverseName } from '../../core/ip.js';
import type { AAAARecord, ARecord, NameRecord, WireAnswer } from '../../core/message.js';
import { matchZone, normalizeZone } from '../../core/zones.js';

/** Addresses by name and names by address, in file order, as hosts(5) lists them. */
export interface HostsMap {
  readonly v4: Map<string, string[]>;
  readonly v6: Map<string, string[]>;
  /** Canonical address → names (empty when reverse records are off). */
  readonly addr: Map<string, string[]>;
}

export function emptyHostsMap(): HostsMap {
  return { v4: new Map(), v6: new Map(), addr: new Map() };
}

/** The address of a hosts line's first field: canonical text and family, or undefined when it is not one. */
export function parseAddress(field: string): { ip: string; family: 4 | 6 } | undefined {
  const zone = field.indexOf('%');
  const bare = zone >= 0 ? field.slice(0, zone) : field; // an IPv6 %zone means nothing in DNS
  if (isIPv4(bare)) return { ip: bare, family: 4 };
  if (!isIPv6(bare)) return undefined;
  const bytes = ipv6ToBytes(bare);
  // An IPv4-mapped address is an IPv4 address (Go's To4(), which CoreDNS uses).
  if (bytes.subarray(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return { ip: `${bytes[12]}.${bytes[13]}.${bytes[14]}.${bytes[15]}`, family: 4 };
  }
  return { ip: bytesToIPv6(bytes), family: 6 };
}

function push(map: Map<string, string[]>, key: string, value: string): void {
  const list = map.get(key);
  if (list) list.push(value);
  else map.set(key, [value]);
}

/**
 * Parses hosts text: `#` comments, `IP name...` lines; short lines and bad addresses are skipped,
 * names are lower-cased and kept only when they lie in one of `origins`.
 */
export function parseHosts(text: string, origins: readonly string[], autoReverse: boolean): HostsMap {
  const map = emptyHostsMap();
  for (let line of text.split('\n')) {
    const hash = line.indexOf('#');
    if (hash >= 0) line = line.slice(0, hash);
    const fields = line.trim().split(/\s+/);
    if (fields.length < 2) continue;
    const addr = parseAddress(fields[0]!);
    if (!addr) continue;
    for (let i = 1; i < fields.length; i++) {
      const name = normalizeZone(fields[i]!);
      if (name === '' || matchZone(name, origins) === undefined) continue;
      push(addr.family === 4 ? map.v4 : map.v6, name, addr.ip);
      // Wildcard owners stand for many names: no PTR can point at them.
      if (autoReverse && !name.startsWith('*.')) push(map.addr, addr.ip, name);
    }
  }
  return map;
}

/** The prebuilt answers of one name. */
export interface HostEntry {
  readonly a: readonly ARecord[];
  readonly aaaa: readonly AAAARecord[];
  /** The fast path's answers, made on the first query for each (hosts.ts): they live and go with the index. */
  fastA?: WireAnswer;
  fastAAAA?: WireAnswer;
}

export interface HostsIndex {
  readonly names: ReadonlyMap<string, HostEntry>;
  /** Reverse name (x.x.x.x.in-addr.arpa, nibbles.ip6.arpa) → PTR records. */
  readonly ptr: ReadonlyMap<string, readonly NameRecord[]>;
  /** Whether any `*.` owner exists, so a miss only tries the wildcard when it can match. */
  readonly wildcards: boolean;
  /** Addresses plus reverse names, as CoreDNS counts coredns_hosts_entries. */
  readonly size: number;
}

/** Builds the index from the file's entries followed by the inline ones (CoreDNS concatenates them). */
export function buildIndex(maps: readonly HostsMap[], ttl: number): HostsIndex {
  const v4 = new Map<string, string[]>();
  const v6 = new Map<string, string[]>();
  const addr = new Map<string, string[]>();
  let size = 0;
  for (const m of maps) {
    for (const [k, list] of m.v4) for (const ip of list) (push(v4, k, ip), size++);
    for (const [k, list] of m.v6) for (const ip of list) (push(v6, k, ip), size++);
    for (const [k, list] of m.addr) for (const n of list) (push(addr, k, n), size++);
  }
  const names = new Map<string, HostEntry>();
  for (const name of new Set([...v4.keys(), ...v6.keys()])) {
    names.set(name, {
      a: (v4.get(name) ?? []).map((ip) => ({ name, ttl, type: 'A', data: ip })),
      aaaa: (v6.get(name) ?? []).map((ip) => ({ name, ttl, type: 'AAAA', data: ip })),
      fastA: undefined,
      fastAAAA: undefined,
    });
  }
  const ptr = new Map<string, NameRecord[]>();
  for (const [ip, list] of addr) {
    const owner = reverseName(ip);
    ptr.set(owner, list.map((target) => ({ name: owner, ttl, type: 'PTR', data: target })));
  }
  const wildcards = [...names.keys()].some((n) => n.startsWith('*.'));
  return { names, ptr, wildcards, size };
}

/** The records of a wildcard entry, re-owned by the name that matched it. */
export function instantiate(entry: HostEntry, name: string): HostEntry {
  return {
    a: entry.a.map((r) => ({ ...r, name })),
    aaaa: entry.aaaa.map((r) => ({ ...r, name })),
  };
}
