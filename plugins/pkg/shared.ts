// A value shared by the server generations that ask for it with the same key (a data source: an etcd
// client and its mirror), started by the first and stopped when the last lets go, so that a reload to an
// unchanged source keeps its data without reading it all again. Scoped by an object the server keeps
// across reloads (its metrics registry): two servers in one process never share.

export interface SharedHold<T> {
  readonly value: T;
  /** Once per hold; the last release stops the value. */
  release(): Promise<void>;
}

interface Entry {
  readonly value: unknown;
  readonly stop: (value: never) => Promise<void>;
  refs: number;
}

const scopes = new WeakMap<object, Map<string, Entry>>();

export function acquireShared<T>(owner: object, key: string, start: () => T, stop: (value: T) => Promise<void>): SharedHold<T> {
  let entries = scopes.get(owner);
  if (!entries) scopes.set(owner, (entries = new Map()));
  let entry = entries.get(key);
  if (!entry) {
    entry = { value: start(), stop: stop as (value: never) => Promise<void>, refs: 0 };
    entries.set(key, entry);
  }
  entry.refs++;
  const held = entry;
  let released = false;
  return {
    value: held.value as T,
    async release() {
      if (released) return;
      released = true;
      if (--held.refs > 0) return;
      if (entries.get(key) === held) entries.delete(key);
      await held.stop(held.value as never);
    },
  };
}
