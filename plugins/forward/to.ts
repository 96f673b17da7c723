// TO arguments of forward: IP[:PORT], [IPv6]:PORT, dns://..., tls://IP[:PORT], or a resolv.conf-style file whose
// `nameserver` lines are the upstreams (CoreDNS's parse.HostPortOrFile).
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { isIPv4, isIPv6 } from '../../core/ip.js';

export interface Endpoint {
  readonly address: string;
  readonly port: number;
  readonly family: 4 | 6;
  /** host:port as CoreDNS writes it in metrics and logs ([v6]:port). */
  readonly name: string;
  /** DNS over TLS (a tls:// TO). */
  readonly tls?: true;
}

export const MAX_UPSTREAMS = 15;

/** One address with an optional port; undefined if it is not an address. */
export function parseAddress(text: string, defaultPort = 53): Endpoint | undefined {
  let host = text;
  let port = defaultPort;
  const bracket = /^\[([^\]]+)\](?::(\d+))?$/.exec(text);
  if (bracket) {
    host = bracket[1]!;
    if (bracket[2] !== undefined) port = Number(bracket[2]);
  } else if (!isIPv6(text)) {
    const colon = text.lastIndexOf(':');
    if (colon > 0) {
      if (!/^\d+$/.test(text.slice(colon + 1))) return undefined;
      host = text.slice(0, colon);
      port = Number(text.slice(colon + 1));
    }
  }
  if (port < 1 || port > 65535) return undefined;
  if (isIPv4(host)) return { address: host, port, family: 4, name: `${host}:${port}` };
  if (isIPv6(host)) return { address: host, port, family: 6, name: `[${host}]:${port}` };
  return undefined;
}

export type ToResult = { endpoints: Endpoint[] } | { error: string };

/** Resolves one TO argument: an address, dns:// or tls:// address, or a resolv.conf file (relative to `dir`). */
export function resolveTo(text: string, dir: string): ToResult {
  const scheme = /^([a-z]+):\/\//i.exec(text);
  const name = scheme?.[1]!.toLowerCase();
  if (scheme && name !== 'dns' && name !== 'tls') return { error: `protocol '${scheme[1]}://' is not supported (only dns:// and tls://)` };
  const bare = scheme ? text.slice(scheme[0].length) : text;
  const ep = parseAddress(bare, name === 'tls' ? 853 : 53);
  if (ep) return { endpoints: [name === 'tls' ? { ...ep, tls: true } : ep] };
  if (scheme) return { error: `'${text}' is not an IP address with an optional port` };
  let content: string;
  try {
    content = readFileSync(path.resolve(dir, text), 'utf8');
  } catch {
    return { error: `'${text}' is not an IP address, nor a readable resolv.conf file` };
  }
  const endpoints: Endpoint[] = [];
  for (const line of content.split('\n')) {
    const m = /^\s*nameserver\s+(\S+)/.exec(line);
    if (!m) continue;
    // A zone index (fe80::1%eth0) cannot be used on loopback-only hosts; keep the address part.
    const e = parseAddress(m[1]!.replace(/%.*$/, ''));
    if (e) endpoints.push(e);
  }
  if (endpoints.length === 0) return { error: `no nameserver found in '${text}'` };
  return { endpoints };
}
