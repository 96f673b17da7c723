// What every feed of the index (API server or manifests on disk) offers, kept apart from feed-api.ts
// so that a server reading manifests never loads the API feed (feed-api.ts, feed-http.ts).
import v8 from 'node:v8';
import vm from 'node:vm';
import { RateLimitedLog, type Logger } from '../../core/log.js';
import type { IndexSink } from './service-index.js';

/** A running feed. */
export interface Feed {
  /** Resolves true once the first full list of every resource is in the index, false after `timeoutMs`. */
  waitForSync(timeoutMs: number): Promise<boolean>;
  stop(): Promise<void>;
}

/** Waits for the index to be synced, logging like CoreDNS while it waits. */
export async function waitForSync(index: IndexSink, timeoutMs: number, logger: Logger): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const note = setTimeout(() => logger.info('waiting for Kubernetes API before starting server'), Math.min(500, timeoutMs));
  try {
    return await Promise.race([
      index.whenSynced().then(() => true),
      new Promise<boolean>((resolve) => { timer = setTimeout(() => resolve(false), timeoutMs); }),
    ]);
  } finally {
    clearTimeout(timer);
    clearTimeout(note);
  }
}

/** Counts skipped input per resource (coredns_kubernetes_malformed_objects_total). */
export type MalformedCounter = (resource: string) => void;

/**
 * Where a feed reports what it skipped as malformed: counted every time, logged at most once per interval
 * per resource, so that a hostile or broken source cannot flood the log.
 */
export class MalformedReport {
  readonly #log: RateLimitedLog;
  constructor(private readonly logger: Logger, private readonly count: MalformedCounter = () => {}, intervalMs = 30_000) {
    this.#log = new RateLimitedLog(intervalMs);
  }

  /** `resource`: services, endpointslices, ..., or `watch`/`list` for a stream or page that is not one. */
  report(resource: string, what: string, reason: string): void {
    this.count(resource);
    const line = this.#log.line(resource, `skipped malformed ${what}: ${reason}`);
    if (line) this.logger.warn(line);
  }
}

/** Objects synced from which releaseMemory collects. */
export const RELEASE_AFTER_OBJECTS = 2000;

type Gc = (options: { type: 'major'; execution: 'sync'; flavor: 'last-resort' }) => void;
let lastResortGc: Gc | null | undefined;

/**
 * Gives the memory of an initial sync back to the system: a full collection that also shrinks the young
 * generation and releases V8's pooled pages (~50 MB at 10k Services, measured by test/bench/kubernetes-scale.ts;
 * ~40 ms). `objects`: how many the sync brought.
 * V8's memory reducer would do it, but it waits for a low allocation rate, which it only measures at
 * collections, so an idle process keeps the rate of its sync for ever. Node offers no call for it: V8's
 * gc() is taken from a fresh context with --expose-gc set for that moment only, so no global gc appears.
 */
export function releaseMemory(objects: number): void {
  // A small index leaves little to give back, and the collection's cost is the whole heap's.
  if (objects < RELEASE_AFTER_OBJECTS) return;
  if (lastResortGc === undefined) {
    try {
      v8.setFlagsFromString('--expose-gc');
      lastResortGc = vm.runInNewContext('gc') as Gc;
    } catch {
      lastResortGc = null;
    } finally {
      v8.setFlagsFromString('--no-expose-gc');
    }
  }
  lastResortGc?.({ type: 'major', execution: 'sync', flavor: 'last-resort' });
}
