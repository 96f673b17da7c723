// Seeded randomness and mutation for the fuzzers: random JSON values, and valid objects made wrong in one
// or a few places (a field deleted, nulled, of the wrong type, huge, or a bad IP). A failure names its seed.

export type Rng = () => number;

/** mulberry32: small, fast, and the same sequence for the same seed. */
export function rngOf(seed: number): Rng {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

export const int = (rng: Rng, n: number): number => Math.floor(rng() * n);
export const pick = <T>(rng: Rng, xs: readonly T[]): T => xs[int(rng, xs.length)]!;
export const chance = (rng: Rng, p: number): boolean => rng() < p;

const BAD_IPS = ['10.0.0.256', '1.2.3', '::g', '10.0.0.1/24', ' 10.0.0.1', '', 'None', 'localhost', '1:2:3:4:5:6:7:8:9', '١٠.٠.٠.١'];
const ODD_STRINGS = ['', ' ', '.', '..', '-', 'a.b', 'UPPER', 'x'.repeat(64), '\u0000', '\n', 'é', '__proto__', 'constructor', '*'];

/** A random JSON value, nested up to `depth`. */
export function randomValue(rng: Rng, depth = 3): unknown {
  switch (int(rng, depth > 0 ? 10 : 7)) {
    case 0: return null;
    case 1: return chance(rng, 0.5);
    case 2: return pick(rng, [0, -1, 1.5, 65536, 2 ** 53, -0, 80]);
    case 3: return pick(rng, ODD_STRINGS);
    case 4: return pick(rng, BAD_IPS);
    case 5: return randomString(rng);
    case 6: return chance(rng, 0.02) ? 'h'.repeat(100_000 + int(rng, 1000)) : pick(rng, ['ADDED', 'MODIFIED', 'DELETED', 'BOOKMARK', 'ERROR', 'Service', 'prod']);
    case 7: return Array.from({ length: int(rng, 4) }, () => randomValue(rng, depth - 1));
    default: {
      const o: Record<string, unknown> = {};
      const keys = ['metadata', 'name', 'namespace', 'spec', 'type', 'object', 'items', 'addresses', 'ips', 'port', 'ports', 'endpoints', 'status', 'code'];
      for (let i = int(rng, 4); i > 0; i--) o[pick(rng, keys)] = randomValue(rng, depth - 1);
      return o;
    }
  }
}

function randomString(rng: Rng): string {
  const chars = 'abz09-.:_/ \u00e9\u2028';
  return Array.from({ length: int(rng, 12) }, () => chars[int(rng, chars.length)]).join('');
}

const clone = <T>(v: T): T => structuredClone(v);

/** Every path to a value in `v` (objects and arrays), the root excluded. */
function paths(v: unknown, prefix: (string | number)[] = [], out: (string | number)[][] = []): (string | number)[][] {
  if (v === null || typeof v !== 'object') return out;
  for (const [k, child] of Object.entries(v)) {
    const p = [...prefix, Array.isArray(v) ? Number(k) : k];
    out.push(p);
    paths(child, p, out);
  }
  return out;
}

/** A copy of `obj` with 1 to 3 random changes; `obj` is not touched. */
export function mutate<T>(rng: Rng, obj: T): T {
  const out = clone(obj) as unknown;
  for (let n = 1 + int(rng, 3); n > 0; n--) {
    const all = paths(out);
    if (all.length === 0) return randomValue(rng) as T;
    const path = pick(rng, all);
    let parent = out as Record<string | number, unknown>;
    for (const k of path.slice(0, -1)) parent = parent[k] as Record<string | number, unknown>;
    const key = path.at(-1)!;
    switch (int(rng, 6)) {
      case 0:
        if (Array.isArray(parent)) parent.splice(key as number, 1);
        else delete parent[key];
        break;
      case 1: parent[key] = null; break;
      case 2: parent[key] = pick(rng, BAD_IPS); break;
      case 3: parent[key] = pick(rng, ODD_STRINGS); break;
      default: parent[key] = randomValue(rng, 2);
    }
  }
  return out as T;
}
