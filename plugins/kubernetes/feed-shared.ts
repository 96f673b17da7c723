// Feeds shared across reloads. A source (API server or manifests, with its selectors) is one feed and one
// index, held by the server generations that use it (plugins/pkg/shared.ts): a reload to an unchanged
// source reuses the synced index without a relist, and the last generation to let go stops it. A reload to
// a new source that has not synced yet answers from the data of the source it replaces, which it holds
// until its own index syncs.
import { acquireShared, holdExisting, type SharedHold } from '../pkg/shared.js';
import type { Feed } from './feed.js';
import type { ServiceIndex } from './service-index.js';

/** One source's feed and index. */
export interface Source {
  readonly key: string;
  readonly index: ServiceIndex;
  readonly feed: Feed;
}

/** By scope (the server's metrics registry), the synced source whose data answers each set of zones now. */
const serving = new WeakMap<object, Map<string, Source>>();
const sharedKey = (key: string) => `kubernetes ${key}`;

/** Holds the source with this key, starting it (`start`) when no generation holds it yet. */
export function acquireSource(owner: object, key: string, start: () => { index: ServiceIndex; feed: Feed }): SharedHold<Source> {
  return acquireShared(owner, sharedKey(key), (): Source => ({ key, ...start() }), async (source) => {
    const zones = serving.get(owner);
    for (const [z, s] of zones ?? []) if (s === source) zones!.delete(z);
    await source.feed.stop();
  });
}

/** Holds the synced source now answering `zones`, if it is another than `except`. */
export function holdServing(owner: object, zones: string, except: Source): SharedHold<Source> | undefined {
  const s = serving.get(owner)?.get(zones);
  return s && s !== except && s.index.synced ? holdExisting<Source>(owner, sharedKey(s.key)) : undefined;
}

/** Records that `source` (synced, held) now answers `zones`. */
export function markServing(owner: object, zones: string, source: Source): void {
  let map = serving.get(owner);
  if (!map) serving.set(owner, (map = new Map()));
  map.set(zones, source);
}
