// Fuzzer of the manifests feed: files of valid and mutated objects (YAML and JSON, sometimes cut short),
// read by the real file feed into an index (accepted: good objects served; refused: objects skipped as malformed). Nothing may escape the feed (no "[ERROR] manifests:" line but
// a file's own parse error), and every valid object in a file that parses is served.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { memoryLogger } from '../../core/log.js';
import { startFileFeed } from '../../plugins/kubernetes/feed-files.js';
import { ServiceIndex } from '../../plugins/kubernetes/service-index.js';
import { service } from '../fixtures/k8s-objects.js';
import { validObject, type FuzzResult } from './kubernetes.js';
import { chance, int, mutate, pick, rngOf } from './mutate.js';

export async function fuzzManifests(seed: number, budgetMs: number): Promise<FuzzResult> {
  const rng = rngOf(seed);
  const dir = mkdtempSync(join(tmpdir(), 'nodens-fuzz-manifests-'));
  let iterations = 0;
  let accepted = 0;
  let refused = 0;
  const end = performance.now() + budgetMs;
  try {
    while (performance.now() < end) {
      iterations++;
      const good = Array.from({ length: 1 + int(rng, 3) }, (_, i) => service('prod', `ok-${i}`, { clusterIPs: [`10.9.0.${i + 1}`] }));
      const noise = Array.from({ length: int(rng, 6) }, () => {
        const o = validObject(rng, pick(rng, ['services', 'endpointslices', 'namespaces', 'pods'] as const));
        return chance(rng, 0.7) ? mutate(rng, o) : o;
      });
      const objects = [...noise, ...good].sort(() => rng() - 0.5);
      const json = chance(rng, 0.3);
      let text = json ? JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }) : objects.map((o) => stringify(o)).join('---\n');
      const cut = chance(rng, 0.1);
      if (cut) text = text.slice(0, int(rng, text.length));
      const file = join(dir, `m.${json ? 'json' : 'yaml'}`);
      writeFileSync(file, text);
      const index = new ServiceIndex();
      const log = memoryLogger();
      const feed = startFileFeed(index, { paths: [file], pollMs: 0, onMalformed: () => refused++ }, log);
      try {
        await feed.waitForSync(5000);
      } finally {
        await feed.stop();
      }
      const parseFailed = log.lines.some((l) => l.includes('keeping its previous objects'));
      const escaped = log.lines.filter((l) => l.startsWith('[ERROR]') && !l.includes('keeping its previous objects'));
      if (escaped.length > 0) throw new Error(`seed ${seed}: an error escaped the feed: ${escaped.join('\n')}\nfile:\n${text.slice(0, 3000)}`);
      if (parseFailed) {
        if (!cut) throw new Error(`seed ${seed}: a file written whole failed to parse: ${log.lines.join('\n')}\n${text.slice(0, 3000)}`);
        continue;
      }
      // A cut file that still parses may have lost its last objects; a whole one must serve all good ones.
      if (cut) continue;
      for (const s of good) {
        if (!index.getService('prod', s.metadata.name)) throw new Error(`seed ${seed}: ${s.metadata.name} is not served\n${log.lines.join('\n')}\nfile:\n${text.slice(0, 3000)}`);
        accepted++;
      }
    }
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
  return { iterations, accepted, refused };
}
