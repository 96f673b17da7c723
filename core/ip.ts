// IP address parsing and formatting shared by the encoder, hosts, kubernetes and PTR handling.
import { isIPv4, isIPv6 } from 'node:net';

export { isIPv4, isIPv6 };

/** The 4 bytes of a dotted IPv4 address, written into `out` at `offset`. */
export function writeIPv4(ip: string, out: Uint8Array, offset: number): void {
  let part = 0;
  let value = 0;
  for (let i = 0; i < ip.length; i++) {
    const c = ip.charCodeAt(i);
    if (c === 46 /* . */) {
      out[offset + part++] = value;
      value = 0;
    } else {
      value = value * 10 + (c - 48);
    }
  }
  out[offset + part] = value;
}

/** The 16 bytes of an IPv6 address (with `::` and an embedded IPv4 tail), or throws. */
export function ipv6ToBytes(ip: string): Uint8Array {
  const zone = ip.indexOf('%');
  if (zone >= 0) ip = ip.slice(0, zone);
  const out = new Uint8Array(16);
  const halves = ip.split('::');
  if (halves.length > 2) throw new Error(`bad IPv6 address ${ip}`);
  const parse = (s: string): number[] => {
    if (s === '') return [];
    const words: number[] = [];
    for (const group of s.split(':')) {
      if (group.includes('.')) {
        const v4 = new Uint8Array(4);
        writeIPv4(group, v4, 0);
        words.push((v4[0]! << 8) | v4[1]!, (v4[2]! << 8) | v4[3]!);
      } else {
        words.push(parseInt(group, 16));
      }
    }
    return words;
  };
  const head = parse(halves[0]!);
  const tail = halves.length === 2 ? parse(halves[1]!) : [];
  if (halves.length === 1 && head.length !== 8) throw new Error(`bad IPv6 address ${ip}`);
  const words = [...head, ...new Array<number>(8 - head.length - tail.length).fill(0), ...tail];
  for (let i = 0; i < 8; i++) {
    out[i * 2] = words[i]! >> 8;
    out[i * 2 + 1] = words[i]! & 0xff;
  }
  return out;
}

/** Canonical (RFC 5952) text of 16 IPv6 bytes. */
export function bytesToIPv6(b: Uint8Array): string {
  const words: number[] = [];
  for (let i = 0; i < 16; i += 2) words.push((b[i]! << 8) | b[i + 1]!);
  // Find the longest run of zero words (length >= 2) to shorten with '::'.
  let bestStart = -1;
  let bestLen = 0;
  for (let i = 0; i < 8; ) {
    if (words[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > bestLen && j - i >= 2) { bestStart = i; bestLen = j - i; }
    i = j;
  }
  const hex = (ws: number[]) => ws.map((w) => w.toString(16)).join(':');
  if (bestStart < 0) return hex(words);
  return `${hex(words.slice(0, bestStart))}::${hex(words.slice(bestStart + bestLen))}`;
}

/** Canonical text form of an address ('::ffff:0:1' style for v6), or undefined if it is not an IP. */
export function canonicalIP(ip: string): string | undefined {
  if (isIPv4(ip)) return ip;
  const zone = ip.indexOf('%');
  const bare = zone >= 0 ? ip.slice(0, zone) : ip;
  if (isIPv6(bare)) return bytesToIPv6(ipv6ToBytes(bare));
  return undefined;
}

/** The reverse-lookup name of an address: 4.3.2.1.in-addr.arpa or the 32-nibble ip6.arpa form. */
export function reverseName(ip: string): string {
  if (isIPv4(ip)) return `${ip.split('.').reverse().join('.')}.in-addr.arpa`;
  const bytes = ipv6ToBytes(ip);
  const nibbles: string[] = [];
  for (let i = 15; i >= 0; i--) {
    nibbles.push((bytes[i]! & 0xf).toString(16), (bytes[i]! >> 4).toString(16));
  }
  return `${nibbles.join('.')}.ip6.arpa`;
}

/** The address a reverse-lookup name stands for, or undefined when the name is not a complete one. */
export function ipFromReverseName(name: string): string | undefined {
  const lower = name.toLowerCase().replace(/\.$/, '');
  if (lower.endsWith('.in-addr.arpa')) {
    const parts = lower.slice(0, -'.in-addr.arpa'.length).split('.');
    if (parts.length !== 4 || !parts.every((p) => /^(0|[1-9]\d{0,2})$/.test(p) && Number(p) < 256)) return undefined;
    return parts.reverse().join('.');
  }
  if (lower.endsWith('.ip6.arpa')) {
    const parts = lower.slice(0, -'.ip6.arpa'.length).split('.');
    if (parts.length !== 32 || !parts.every((p) => /^[0-9a-f]$/.test(p))) return undefined;
    const bytes = new Uint8Array(16);
    for (let i = 0; i < 16; i++) {
      bytes[15 - i] = parseInt(parts[i * 2]!, 16) | (parseInt(parts[i * 2 + 1]!, 16) << 4);
    }
    return bytesToIPv6(bytes);
  }
  return undefined;
}

/**
 * The reverse zones that cover a CIDR, as CoreDNS expands them: whole octets (or nibbles), so
 * 10.0.0.0/24 gives 0.0.10.in-addr.arpa, 10.96.0.0/12 sixteen /16 zones and 10.0.0.0/30 four /32 ones.
 */
export function cidrToReverseZones(cidr: string): string[] | undefined {
  const slash = cidr.indexOf('/');
  if (slash < 0) return undefined;
  const ip = cidr.slice(0, slash);
  const bits = Number(cidr.slice(slash + 1));
  if (!Number.isInteger(bits)) return undefined;
  if (isIPv4(ip)) {
    if (bits < 0 || bits > 32) return undefined;
    const octets = ip.split('.').map(Number);
    const whole = Math.floor(bits / 8);
    const rest = bits % 8;
    if (rest === 0) return [reverseLabels(octets.slice(0, whole).map(String), 'in-addr.arpa')];
    const base = octets[whole]! & (0xff << (8 - rest)) & 0xff;
    const zones: string[] = [];
    for (let v = base; v < base + (1 << (8 - rest)); v++) {
      zones.push(reverseLabels([...octets.slice(0, whole).map(String), String(v)], 'in-addr.arpa'));
    }
    return zones;
  }
  if (isIPv6(ip)) {
    if (bits < 0 || bits > 128) return undefined;
    const bytes = ipv6ToBytes(ip);
    const nibbles: number[] = [];
    for (const b of bytes) nibbles.push(b >> 4, b & 0xf);
    const whole = Math.floor(bits / 4);
    const rest = bits % 4;
    const prefix = nibbles.slice(0, whole).map((n) => n.toString(16));
    if (rest === 0) return [reverseLabels(prefix, 'ip6.arpa')];
    const base = nibbles[whole]! & (0xf << (4 - rest)) & 0xf;
    const zones: string[] = [];
    for (let v = base; v < base + (1 << (4 - rest)); v++) zones.push(reverseLabels([...prefix, v.toString(16)], 'ip6.arpa'));
    return zones;
  }
  return undefined;
}

function reverseLabels(labels: string[], suffix: string): string {
  return labels.length === 0 ? suffix : `${[...labels].reverse().join('.')}.${suffix}`;
}
