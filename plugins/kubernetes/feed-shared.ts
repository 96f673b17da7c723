// Feeds shared across reloads. A source (API server or manifests, with its selectors) is one feed and one
// index, counted by the server generations that use it: a reload to an unchanged source reuses the synced
// index without a relist, and the last generation to let go stops it. A reload to a new source that has not
// synced yet answers from the data of the source it replaces, which it holds until its own index syncs.
import type { Feed } from './feed.js';
import type { ServiceIndex } from './service-index.js';

/** One source's feed and index, and how many handlers hold it. */
export interface Source {
  readonly key: string;
  readonly index: ServiceIndex;
  readonly feed: Feed;
  refs: number;
}

/** A hold on a source; release() once, on close. */
export interface SourceHold {
  readonly source: Source;
  release(): Promise<void>;
}

/**
 * Sharing is scoped by an object the server keeps across reloads (its metrics registry): two servers in
 * one process never share an index, so each counts its own metrics.
 */
interface Scope {
  readonly sources: Map<string, Source>;
  /** The source whose data answers these zones now (a synced one), by zones. */
  readonly serving: Map<string, Source>;
}
const scopes = new WeakMap<object, Scope>();

function scopeOf(owner: object): Scope {
  let s = scopes.get(owner);
  if (!s) scopes.set(owner, (s = { sources: new Map(), serving: new Map() }));
  return s;
}

function hold(scope: Scope, source: Source): SourceHold {
  source.refs++;
  let released = false;
  return {
    source,
    async release() {
      if (released) return;
      released = true;
      if (--source.refs > 0) return;
      scope.sources.delete(source.key);
      for (const [zones, s] of scope.serving) if (s === source) scope.serving.delete(zones);
      await source.feed.stop();
    },
  };
}

/** Holds the source with this key, starting it (`start`) when no generation holds it yet. */
export function acquireSource(owner: object, key: string, start: () => { index: ServiceIndex; feed: Feed }): SourceHold {
  const scope = scopeOf(owner);
  let source = scope.sources.get(key);
  if (!source) {
    source = { key, ...start(), refs: 0 };
    scope.sources.set(key, source);
  }
  return hold(scope, source);
}

/** Holds the synced source now answering `zones`, if it is another than `except`. */
export function holdServing(owner: object, zones: string, except: Source): SourceHold | undefined {
  const scope = scopeOf(owner);
  const s = scope.serving.get(zones);
  return s && s !== except && s.refs > 0 && s.index.synced ? hold(scope, s) : undefined;
}

/** Records that `source` (synced) now answers `zones`. */
export function markServing(owner: object, zones: string, source: Source): void {
  if (source.refs > 0) scopeOf(owner).serving.set(zones, source);
}
