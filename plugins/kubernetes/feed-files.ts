// The manifests feed: Kubernetes objects from YAML or JSON files on disk (a `kubectl get -o yaml` dump, or
// hand-written manifests) into the same index, watched with fs.watch plus polling. Each reload is diffed
// against the last one, so the index sees ordinary add/update/delete events.
import { statSync, watch, type FSWatcher } from 'node:fs';
import { readFile, readdir, stat } from 'node:fs/promises';
import { basename, dirname, extname, join } from 'node:path';
import { LineCounter, parseAllDocuments } from 'yaml';
import type { Logger } from '../../core/log.js';
import { MalformedReport, releaseMemory, waitForSync, type Feed, type MalformedCounter } from './feed.js';
import { parseLabelSelector } from './labels.js';
import type { KObject, ResourceKind } from './objects.js';
import type { IndexSink } from './service-index.js';
import { checkAndTrim, preview } from './validate.js';

export interface FileFeedOptions {
  /** Files, or folders whose *.yaml, *.yml and *.json files are read. */
  readonly paths: readonly string[];
  readonly labels?: string | undefined;
  readonly namespaceLabels?: string | undefined;
  readonly endpoints?: boolean;
  readonly pods?: boolean;
  /** Keep endpoints' pod names (`endpoint_pod_names`). */
  readonly podNames?: boolean;
  /** How often files are checked for changes besides fs.watch events. Default 2 s; 0: no polling. */
  readonly pollMs?: number;
  /** Counts each malformed object skipped (coredns_kubernetes_malformed_objects_total). */
  readonly onMalformed?: MalformedCounter;
}

const KINDS: Record<string, ResourceKind> = { Service: 'services', EndpointSlice: 'endpointslices', Namespace: 'namespaces', Pod: 'pods' };
const ORDER: ResourceKind[] = ['namespaces', 'services', 'endpointslices', 'pods'];
const MANIFEST_EXT = new Set(['.yaml', '.yml', '.json']);

type Snapshot = Map<ResourceKind, Map<string, { obj: KObject; text: string }>>;
type Located = Manifest & { readonly file: string };

/** One object read from a manifest file, with where it was: `LINE` of its YAML document, and its list path. */
export interface Manifest {
  readonly object: Record<string, unknown>;
  readonly at: string;
}

/** Every object in a manifest text: multi-document YAML or JSON, `kind: List` (and *List) flattened. */
export function readManifests(text: string): Manifest[] {
  const out: Manifest[] = [];
  const visit = (v: unknown, at: string): void => {
    if (v === null || typeof v !== 'object') return;
    if (Array.isArray(v)) return v.forEach((item, i) => visit(item, `${at}[${i}]`));
    const o = v as Record<string, unknown>;
    if (Array.isArray(o.items) && typeof o.kind === 'string' && o.kind.endsWith('List')) o.items.forEach((item, i) => visit(item, `${at}.items[${i}]`));
    else out.push({ object: o, at });
  };
  // JSON (a `kubectl get -o json` dump) is parsed natively: yaml's document model of a large dump costs
  // hundreds of MB (650 MB of RSS for 5,000 Services and 50,000 endpoints) where JSON.parse needs tens.
  const trimmed = text.trimStart();
  if (trimmed.startsWith('{') || trimmed.startsWith('[')) {
    try {
      visit(JSON.parse(text), '1: $');
      return out;
    } catch {
      // Not JSON after all (YAML flow style): fall through to the YAML parser.
      out.length = 0;
    }
  }
  const lines = new LineCounter();
  for (const doc of parseAllDocuments(text, { lineCounter: lines })) {
    const line = lines.linePos(doc.range[0]).line;
    if (doc.errors.length > 0) throw Object.assign(new Error(doc.errors[0]!.message), { line: lines.linePos(doc.errors[0]!.pos[0]).line });
    visit(doc.toJS(), `${line}: $`);
  }
  return out;
}

/** The objects of a manifest text, without their positions. */
export function parseManifests(text: string): Record<string, unknown>[] {
  return readManifests(text).map((m) => m.object);
}

async function manifestFiles(path: string): Promise<string[]> {
  const st = await stat(path);
  if (!st.isDirectory()) return [path];
  const names = await readdir(path);
  return names.filter((n) => MANIFEST_EXT.has(extname(n))).sort().map((n) => join(path, n));
}

export function startFileFeed(index: IndexSink, options: FileFeedOptions, logger: Logger): Feed {
  const labels = options.labels ? parseLabelSelector(options.labels) : undefined;
  const nsLabels = options.namespaceLabels ? parseLabelSelector(options.namespaceLabels) : undefined;
  const wanted = (kind: ResourceKind): boolean =>
    kind === 'endpointslices' ? (options.endpoints ?? true) : kind === 'pods' ? (options.pods ?? false) : true;
  /** The last objects read from each file that parsed: a broken edit keeps the file's previous objects. */
  const lastGood = new Map<string, Located[]>();
  const malformed = new MalformedReport(logger, options.onMalformed);
  /** Objects already reported, so that a file polled every 2 s says each problem once. */
  let reported = new Set<string>();
  let signature = '';
  let current: Snapshot = new Map();
  let stopped = false;
  let running: Promise<void> | undefined;
  let again = false;
  const watchers: FSWatcher[] = [];

  const snapshot = (objects: Located[]): Snapshot => {
    const snap: Snapshot = new Map(ORDER.map((k) => [k, new Map()]));
    const implied = new Set<string>();
    const put = (kind: ResourceKind, obj: KObject) => snap.get(kind)!.set(`${obj.metadata.namespace ?? ''}/${obj.metadata.name}`, { obj, text: JSON.stringify(obj) });
    const stillReported = new Set<string>();
    const skip = (m: Located, kind: string, reason: string): void => {
      const key = `${m.file}:${m.at}: ${reason}`;
      stillReported.add(key);
      if (!reported.has(key)) malformed.report(kind, 'manifest', `${m.file}:${m.at} (${preview(m.object.kind)} ${preview((m.object.metadata as { name?: unknown } | undefined)?.name)}): ${reason}`);
    };
    for (const m of objects) {
      const raw = m.object;
      if (typeof raw.kind !== 'string') {
        skip(m, 'manifest', `kind: expected a string, got ${preview(raw.kind)}`);
        continue;
      }
      if (!Object.hasOwn(KINDS, raw.kind)) continue;
      const kind = KINDS[raw.kind]!;
      if (!wanted(kind)) continue;
      const obj = checkAndTrim(kind, raw, { podNames: options.podNames ?? false });
      if (typeof obj === 'string') {
        skip(m, kind, obj);
        continue;
      }
      const selector = kind === 'namespaces' ? nsLabels : labels;
      const rawLabels = ((raw.metadata ?? {}) as { labels?: Record<string, string> }).labels;
      if (selector && !selector.matches(rawLabels)) continue;
      if (kind !== 'namespaces') obj.metadata.namespace ??= 'default';
      put(kind, obj);
      if (kind !== 'namespaces') implied.add(obj.metadata.namespace!);
    }
    reported = stillReported;
    // A dump of Services alone still names its namespaces; with namespace_labels only labelled ones count.
    if (!nsLabels) for (const ns of implied) if (!snap.get('namespaces')!.has(`/${ns}`)) put('namespaces', { metadata: { name: ns } });
    return snap;
  };

  const applyDiff = (next: Snapshot): number => {
    let changes = 0;
    for (const kind of ORDER) {
      const before = current.get(kind) ?? new Map();
      const after = next.get(kind)!;
      for (const [key, v] of after) {
        const old = before.get(key);
        if (old?.text === v.text) continue;
        index.apply(kind, old ? 'update' : 'add', v.obj);
        changes++;
      }
      for (const [key, v] of before) if (!after.has(key)) { index.apply(kind, 'delete', v.obj); changes++; }
    }
    current = next;
    return changes;
  };

  const load = async (): Promise<void> => {
    const files: string[] = [];
    for (const p of options.paths) {
      try {
        files.push(...(await manifestFiles(p)));
      } catch (err) {
        logger.warn(`manifests: cannot read ${p}: ${(err as Error).message}`);
      }
    }
    const stats = await Promise.all(files.map((f) => stat(f).then((s) => `${f}:${s.mtimeMs}:${s.size}`, () => `${f}:gone`)));
    const sig = stats.join('|');
    if (sig === signature && index.synced) return;
    signature = sig;
    const objects: Located[] = [];
    for (const f of files) {
      try {
        const parsed = readManifests(await readFile(f, 'utf8')).map((m) => ({ ...m, file: f }));
        lastGood.set(f, parsed);
      } catch (err) {
        const line = (err as { line?: number }).line;
        logger.error(`manifests: ${f}${line ? `:${line}` : ''}: ${(err as Error).message}; keeping its previous objects`);
      }
      objects.push(...(lastGood.get(f) ?? []));
    }
    for (const f of [...lastGood.keys()]) if (!files.includes(f)) lastGood.delete(f);
    const changes = applyDiff(snapshot(objects));
    if (!index.synced) {
      index.markSynced();
      logger.info(`loaded ${current.get('services')!.size} services, ${current.get('endpointslices')!.size} endpoint slices from ${files.length} manifest file(s)`);
      // Once the parsed files are garbage (after this turn), and before the server answers its first query.
      setImmediate(() => {
        if (!stopped) releaseMemory(objects.length);
      });
    } else if (changes > 0) {
      logger.info(`manifests changed: ${changes} object change(s) applied`);
    }
  };

  /** One load at a time; a trigger during a load runs one more afterwards. */
  const trigger = (): Promise<void> => {
    if (stopped) return Promise.resolve();
    if (running) {
      again = true;
      return running;
    }
    running = load().catch((err: unknown) => logger.error(`manifests: ${(err as Error).message}`)).finally(() => {
      running = undefined;
      if (again && !stopped) {
        again = false;
        void trigger();
      }
    });
    return running;
  };

  let debounce: NodeJS.Timeout | undefined;
  const onFsEvent = () => {
    clearTimeout(debounce);
    debounce = setTimeout(() => void trigger(), 30);
  };
  for (const p of options.paths) {
    try {
      // A file is watched through its folder: editors replace files, and a watch on the old inode goes quiet.
      const isDir = statSync(p).isDirectory();
      const w = watch(isDir ? p : dirname(p), (_event, name) => {
        if (isDir || name === null || name === basename(p)) onFsEvent();
      });
      w.on('error', () => w.close());
      watchers.push(w);
    } catch {
      // A path that does not exist yet is found by polling.
    }
  }
  const pollMs = options.pollMs ?? 2000;
  const poll = pollMs > 0 ? setInterval(() => void trigger(), pollMs) : undefined;
  poll?.unref();
  void trigger();

  return {
    waitForSync: (ms) => waitForSync(index, ms, logger),
    async stop() {
      stopped = true;
      clearInterval(poll);
      clearTimeout(debounce);
      for (const w of watchers) w.close();
      await running;
    },
  };
}
