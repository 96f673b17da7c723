// Response-rate limiting as BIND's RRL accounts it: a credit balance per client prefix that earns
// responses-per-second, is capped at one second's worth, and may fall into debt of `window` seconds'
// worth, so a client that keeps flooding stays limited. Every `slip`th limited response slips (TC=1).
import { isIPv4, isIPv6 } from 'node:net';

export interface LimiterOptions {
  readonly responsesPerSecond: number;
  /** Seconds of debt a prefix may run up: how long a flood is remembered. */
  readonly window: number;
  /** Every Nth limited response is answered with TC=1 (0: none, 1: all). */
  readonly slip: number;
  readonly ipv4PrefixLength: number;
  readonly ipv6PrefixLength: number;
  /** Networks never limited (`a.b.c.d/n`, `x::/n`, or a bare address). */
  readonly exempt: readonly string[];
  /** Prefixes tracked at once; the oldest is forgotten beyond this. */
  readonly maxPrefixes: number;
}

export type Verdict = 'pass' | 'slip' | 'drop';

interface Bucket {
  balance: number;
  /** ms of the last update. */
  at: number;
  limited: number;
}

interface Net {
  readonly v6: boolean;
  readonly bits: bigint;
  readonly prefix: number;
}

/** An address as 32 (IPv4, IPv4-mapped IPv6 included) or 128 bits; undefined when it is not one. */
export function addressBits(text: string): { v6: boolean; bits: bigint } | undefined {
  const zone = text.indexOf('%');
  const bare = zone >= 0 ? text.slice(0, zone) : text;
  if (isIPv4(bare)) return { v6: false, bits: v4Bits(bare) };
  if (!isIPv6(bare)) return undefined;
  const lower = bare.toLowerCase();
  if (lower.startsWith('::ffff:') && isIPv4(lower.slice(7))) return { v6: false, bits: v4Bits(lower.slice(7)) };
  return { v6: true, bits: v6Bits(lower) };
}

function v4Bits(s: string): bigint {
  let v = 0;
  for (const part of s.split('.')) v = v * 256 + Number(part);
  return BigInt(v);
}

function v6Bits(s: string): bigint {
  // An IPv4 tail (::ffff:1.2.3.4 is handled by the caller; 64:ff9b::1.2.3.4 is not mapped) as two groups.
  const lastColon = s.lastIndexOf(':');
  if (s.slice(lastColon + 1).includes('.')) {
    const n = Number(v4Bits(s.slice(lastColon + 1)));
    s = `${s.slice(0, lastColon + 1)}${(n >>> 16).toString(16)}:${(n & 0xffff).toString(16)}`;
  }
  const halves = s.split('::');
  const head = halves[0] ? halves[0].split(':') : [];
  const tail = halves.length > 1 && halves[1] ? halves[1].split(':') : [];
  const groups = [...head, ...new Array<string>(8 - head.length - tail.length).fill('0'), ...tail];
  let v = 0n;
  for (const g of groups) v = (v << 16n) | BigInt(parseInt(g, 16));
  return v;
}

/** `a.b.c.d/n`, `x::/n` or a bare address as a network; undefined when malformed. */
export function parseNet(text: string): Net | undefined {
  const slash = text.indexOf('/');
  const addr = addressBits(slash < 0 ? text : text.slice(0, slash));
  if (!addr) return undefined;
  const max = addr.v6 ? 128 : 32;
  const prefix = slash < 0 ? max : /^\d{1,3}$/.test(text.slice(slash + 1)) ? Number(text.slice(slash + 1)) : NaN;
  if (!(prefix >= 0 && prefix <= max)) return undefined;
  return { v6: addr.v6, bits: addr.bits >> BigInt(max - prefix), prefix };
}

export class Limiter {
  readonly #buckets = new Map<string, Bucket>();
  readonly #exempt: readonly Net[];

  constructor(private readonly opts: LimiterOptions, private readonly now: () => number = () => performance.now()) {
    this.#exempt = opts.exempt.map((n) => parseNet(n)).filter((n): n is Net => n !== undefined);
  }

  /** What to do with a response to `address` now. An address that is not one is passed. */
  check(address: string): Verdict {
    const addr = addressBits(address);
    if (!addr) return 'pass';
    const max = addr.v6 ? 128 : 32;
    for (const n of this.#exempt) if (n.v6 === addr.v6 && addr.bits >> BigInt(max - n.prefix) === n.bits) return 'pass';
    const len = addr.v6 ? this.opts.ipv6PrefixLength : this.opts.ipv4PrefixLength;
    const key = `${addr.v6 ? 6 : 4}/${(addr.bits >> BigInt(max - len)).toString(16)}`;
    return this.#take(key);
  }

  /** Prefixes being tracked (for tests). */
  get size(): number {
    return this.#buckets.size;
  }

  #take(key: string): Verdict {
    const { responsesPerSecond: rate, window, slip } = this.opts;
    const now = this.now();
    let b = this.#buckets.get(key);
    if (b === undefined) {
      if (this.#buckets.size >= this.opts.maxPrefixes) this.#buckets.delete(this.#buckets.keys().next().value!);
      b = { balance: rate, at: now, limited: 0 };
      this.#buckets.set(key, b);
    } else {
      b.balance = Math.min(rate, b.balance + ((now - b.at) / 1000) * rate);
      b.at = now;
    }
    if (b.balance >= 1) {
      b.balance -= 1;
      if (b.balance >= 0) b.limited = 0;
      return 'pass';
    }
    // Limited: the response still costs credit (down to the window's worth of debt).
    b.balance = Math.max(b.balance - 1, -window * rate);
    b.limited++;
    return slip > 0 && b.limited % slip === 0 ? 'slip' : 'drop';
  }
}
