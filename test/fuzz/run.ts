// `npm run fuzz [SECONDS]` (or FUZZ_SECONDS): every fuzzer for that long each (default 60 s), new seeds
// round after round, until the time is up or one fails (its seed is printed; FUZZ_SEED replays it).
import { fuzzEtcdRecords } from './etcd.js';
import { fuzzIndex, fuzzListPages, fuzzWatch, type FuzzResult } from './kubernetes.js';
import { fuzzManifests } from './manifests.js';

export const FUZZERS: Record<string, (seed: number, budgetMs: number) => FuzzResult | Promise<FuzzResult>> = {
  'kubernetes index: valid and mutated objects applied directly': fuzzIndex,
  'kubernetes feed: watch lines through a client-node informer into the index': fuzzWatch,
  'kubernetes feed: list pages and their items': fuzzListPages,
  'kubernetes manifests: mutated manifest files': fuzzManifests,
  'etcd mirror: mutated SkyDNS records and keys': fuzzEtcdRecords,
};

async function main(): Promise<void> {
  const seconds = Number(process.argv[2] ?? process.env.FUZZ_SECONDS ?? 60);
  const round = 10_000;
  for (const [name, fuzz] of Object.entries(FUZZERS)) {
    const end = Date.now() + seconds * 1000;
    let total = { iterations: 0, accepted: 0, refused: 0 };
    while (Date.now() < end) {
      const seed = Number(process.env.FUZZ_SEED ?? Math.floor(Math.random() * 2 ** 31));
      try {
        const r = await fuzz(seed, Math.min(round, end - Date.now()));
        total = { iterations: total.iterations + r.iterations, accepted: total.accepted + r.accepted, refused: total.refused + r.refused };
      } catch (err) {
        console.error(`FAIL ${name} (seed ${seed}):\n${(err as Error).message}`);
        process.exit(1);
      }
    }
    console.log(`ok ${name}: ${total.iterations} inputs (${total.accepted} accepted, ${total.refused} refused) in ${seconds}s`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await main();
