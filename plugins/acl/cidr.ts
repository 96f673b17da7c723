// Address and CIDR matching for acl, on 32-bit numbers. (node:net's BlockList.check costs ~20 µs a
// call on Node 20, and a typed array per query a few hundred ns: too much for every query.)

/** An address: IPv4 as one 32-bit number, IPv6 as four. */
export type Address = number | readonly number[];

/** A network: its address and prefix length. */
export interface Net {
  readonly address: Address;
  readonly prefix: number;
}

/** Dotted IPv4 text as a 32-bit number, or undefined. */
export function parseIPv4(s: string): number | undefined {
  let value = 0;
  let part = 0;
  let digits = 0;
  let dots = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c === 46) {
      if (digits === 0 || ++dots > 3) return undefined;
      value = value * 256 + part;
      part = 0;
      digits = 0;
    } else if (c >= 48 && c <= 57) {
      if (digits > 0 && part === 0) return undefined; // a leading zero
      part = part * 10 + (c - 48);
      if (part > 255 || ++digits > 3) return undefined;
    } else {
      return undefined;
    }
  }
  if (dots !== 3 || digits === 0) return undefined;
  return value * 256 + part;
}

/** IPv6 text (with `::` and an IPv4 tail; no %zone) as four 32-bit words, or undefined. */
export function parseIPv6(s: string): readonly number[] | undefined {
  const halves = s.split('::');
  if (halves.length > 2) return undefined;
  const groups = (text: string): number[] | undefined => {
    if (text === '') return [];
    const out: number[] = [];
    const parts = text.split(':');
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i]!;
      if (i === parts.length - 1 && p.includes('.')) {
        const v4 = parseIPv4(p);
        if (v4 === undefined) return undefined;
        out.push(v4 >>> 16, v4 & 0xffff);
      } else {
        if (!/^[0-9a-fA-F]{1,4}$/.test(p)) return undefined;
        out.push(parseInt(p, 16));
      }
    }
    return out;
  };
  const head = groups(halves[0]!);
  const tail = halves.length === 2 ? groups(halves[1]!) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 1 ? fill !== 0 : fill < 1) return undefined;
  const g = [...head, ...new Array<number>(halves.length === 2 ? fill : 0).fill(0), ...tail];
  const words: number[] = [];
  for (let i = 0; i < 4; i++) words.push(g[2 * i]! * 0x10000 + g[2 * i + 1]!);
  return words;
}

/** A client address (IPv4, IPv6, IPv4-mapped IPv6 as IPv4, a %zone ignored) as words, or undefined. */
export function parseAddress(text: string): Address | undefined {
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  const v4 = parseIPv4(bare);
  if (v4 !== undefined) return v4;
  const v6 = parseIPv6(bare);
  if (!v6) return undefined;
  // ::ffff:a.b.c.d (a dual-stack socket's IPv4 client) is that IPv4 address.
  if (v6[0] === 0 && v6[1] === 0 && v6[2] === 0xffff) return v6[3]!;
  return v6;
}

/** A CIDR or a single address (CoreDNS: /32 or /128 appended), or undefined when it is neither. */
export function parseNet(text: string): Net | undefined {
  const slash = text.indexOf('/');
  const address = slash < 0 ? text : text.slice(0, slash);
  const parsed = parseIPv4(address) ?? (address.includes('%') ? undefined : parseIPv6(address));
  if (parsed === undefined) return undefined;
  const max = typeof parsed === 'number' ? 32 : 128;
  if (slash < 0) return { address: parsed, prefix: max };
  const bits = text.slice(slash + 1);
  if (!/^\d{1,3}$/.test(bits) || Number(bits) > max) return undefined;
  return { address: parsed, prefix: Number(bits) };
}

/** The top `bits` (0..32) of a 32-bit word. */
function mask(bits: number): number {
  return bits >= 32 ? 0xffffffff : bits <= 0 ? 0 : (0xffffffff << (32 - bits)) >>> 0;
}

/** Is `address` in `net` (same family)? */
export function contains(net: Net, address: Address): boolean {
  const base = net.address;
  if (typeof address === 'number') return typeof base === 'number' && ((address ^ base) & mask(net.prefix)) === 0;
  if (typeof base === 'number') return false;
  for (let i = 0; i < 4; i++) {
    if (((address[i]! ^ base[i]!) & mask(net.prefix - 32 * i)) !== 0) return false;
  }
  return true;
}
