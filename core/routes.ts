// Where a query goes: the listen keys of server blocks ('address|port', 'tls://address|port'), and each
// listener's zones, matched by longest suffix.
import type { ServerBlockConfig, ServerScheme } from './config/types.js';
import { isInZone } from './zones.js';

/**
 * A listener's zones. Longest-suffix match looks up only the suffixes whose label count some zone has
 * (cluster.local: the last two labels), so a query costs one or two map lookups, not one per label.
 */
export class RouteTable<Block> {
  readonly #zones = new Map<string, Block>();
  /** Label counts of the zones, longest first. */
  #depths: number[] = [];
  /** The route when the table has one zone (the usual listener: '.'), made once: no lookup per query. */
  #only: { block: Block; zone: string } | undefined;

  has(zone: string): boolean {
    return this.#zones.has(zone);
  }

  add(zone: string, block: Block): void {
    this.#zones.set(zone, block);
    const depth = zone === '' ? 0 : zone.split('.').length;
    if (!this.#depths.includes(depth)) this.#depths = [...this.#depths, depth].sort((a, b) => b - a);
    this.#only = this.#zones.size === 1 ? { block, zone } : undefined;
  }

  match(qname: string): { block: Block; zone: string } | undefined {
    const only = this.#only;
    if (only) return isInZone(qname, only.zone) ? only : undefined;
    const labels = qname === '' ? 0 : countDots(qname) + 1;
    for (const depth of this.#depths) {
      if (depth > labels) continue;
      const zone = depth === labels ? qname : depth === 0 ? '' : suffixOfLabels(qname, depth);
      const block = this.#zones.get(zone);
      if (block) return { block, zone };
    }
    return undefined;
  }
}

function countDots(name: string): number {
  let n = 0;
  for (let i = name.indexOf('.'); i >= 0; i = name.indexOf('.', i + 1)) n++;
  return n;
}

/** The last `n` labels of a name with more than `n`. */
function suffixOfLabels(name: string, n: number): string {
  let at = name.length;
  for (let i = 0; i < n; i++) at = name.lastIndexOf('.', at - 1);
  return name.slice(at + 1);
}

/** A key without a port: dns:// takes 53 (or -dns.port), tls:// 853, https:// 443, as CoreDNS. */
export function defaultPortOf(scheme: ServerScheme, dnsPort = 53): number {
  return scheme === 'tls' ? 853 : scheme === 'https' ? 443 : dnsPort;
}

/** The listeners a block needs ('address|port', or 'tls://address|port' → its zones on it). */
export function listenKeysOf(block: ServerBlockConfig, defaultPort: number, defaultBind: readonly string[]): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  const addresses = block.bind.length > 0 ? block.bind : defaultBind;
  for (const k of block.keys) {
    for (const address of addresses) {
      const key = `${k.scheme === 'dns' ? '' : `${k.scheme}://`}${address}|${k.port ?? defaultPortOf(k.scheme, defaultPort)}`;
      const zones = keys.get(key) ?? [];
      zones.push(k.zone);
      keys.set(key, zones);
    }
  }
  return keys;
}

export function splitListenKey(key: string): { address: string; port: number; scheme: ServerScheme } {
  const bar = key.lastIndexOf('|');
  const sep = key.indexOf('://');
  const scheme = sep < 0 ? 'dns' : (key.slice(0, sep) as ServerScheme);
  return { address: key.slice(sep < 0 ? 0 : sep + 3, bar), port: Number(key.slice(bar + 1)), scheme };
}

export function listenKeyLabel(key: string): string {
  const { address, port, scheme } = splitListenKey(key);
  return `${scheme}://${address.includes(':') ? `[${address}]` : address}:${port}`;
}
