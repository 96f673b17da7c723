// Fuzzer of the etcd mirror's record handling: random, mutated and valid SkyDNS values under random keys,
// put into a ServiceTree as the mirror does. Nothing may throw, and the tree must hold exactly the records
// accepted last under each key (a rejected value removes its key), and answer lookups of every name.
import { putRecord } from '../../plugins/etcd/mirror.js';
import { parseService, serviceJson, type Service } from '../../plugins/etcd/msg.js';
import { ServiceTree } from '../../plugins/etcd/store.js';
import type { FuzzResult } from './kubernetes.js';
import { chance, int, mutate, pick, randomValue, rngOf, type Rng } from './mutate.js';

const SEGMENTS = ['local', 'skydns', 'prod', 'x1', 'a', '*', 'any', '', 'ns', 'dns'];

function key(rng: Rng): string {
  if (chance(rng, 0.05)) return pick(rng, ['/skydns', '/skydns/', '/other/local/a', '', '/', '/skydns//a']);
  return `/skydns/${Array.from({ length: 1 + int(rng, 4) }, () => pick(rng, SEGMENTS)).join('/')}`;
}

function record(rng: Rng): Partial<Service> {
  return {
    host: pick(rng, ['10.0.0.1', 'fd00::1', 'a.example.org', 'x1.local.skydns', '']),
    ...(chance(rng, 0.5) ? { port: int(rng, 65536) } : {}),
    ...(chance(rng, 0.3) ? { priority: int(rng, 100), weight: int(rng, 100) } : {}),
    ...(chance(rng, 0.2) ? { text: 'hello' } : {}),
    ...(chance(rng, 0.2) ? { ttl: int(rng, 3600) } : {}),
    ...(chance(rng, 0.1) ? { mail: true } : {}),
  };
}

function value(rng: Rng): string {
  switch (int(rng, 8)) {
    case 0: return JSON.stringify(randomValue(rng));
    case 1: return pick(rng, ['not json', '{', '', '\u0000', `${'['.repeat(20_000)}${']'.repeat(20_000)}`]);
    case 2: case 3: return JSON.stringify(mutate(rng, record(rng)));
    default: return serviceJson(record(rng));
  }
}

export function fuzzEtcdRecords(seed: number, budgetMs: number): FuzzResult {
  const rng = rngOf(seed);
  const tree = new ServiceTree('/skydns');
  const model = new Map<string, Service>();
  let iterations = 0;
  let accepted = 0;
  const end = performance.now() + budgetMs;
  while (performance.now() < end) {
    for (let i = 0; i < 200; i++, iterations++) {
      const k = key(rng);
      try {
        if (chance(rng, 0.15)) {
          tree.delete(k);
          model.delete(k);
          continue;
        }
        const v = value(rng);
        const ok = putRecord(tree, k, v, () => {});
        if (ok) {
          accepted++;
          if (tree.segments(k)) model.set(k, parseService(k, v));
        } else {
          model.delete(k);
        }
        tree.lookup(k.split('/').reverse().filter((s) => s !== '').join('.'), chance(rng, 0.5));
      } catch (err) {
        throw new Error(`seed ${seed}: key ${JSON.stringify(k)} threw ${(err as Error).stack}`);
      }
    }
    const have = tree.all().map((s) => JSON.stringify(s)).sort();
    const want = [...model.values()].map((s) => JSON.stringify(s)).sort();
    if (JSON.stringify(have) !== JSON.stringify(want) || tree.size !== model.size) {
      throw new Error(`seed ${seed}: the tree differs from the records accepted\nhave ${have.join('\n').slice(0, 3000)}\nwant ${want.join('\n').slice(0, 3000)}`);
    }
  }
  return { iterations, accepted, refused: iterations - accepted };
}
