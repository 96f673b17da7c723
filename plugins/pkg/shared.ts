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

function holdOf<T>(entries: Map<string, Entry>, key: string, entry: Entry): SharedHold<T> {
  entry.refs++;
  let released = false;
  return {
    value: entry.value as T,
    async release() {
      if (released) return;
      released = true;
      if (--entry.refs > 0) return;
      if (entries.get(key) === entry) entries.delete(key);
      await entry.stop(entry.value as never);
    },
  };
}

/** Holds the value of `key`, starting it when no one holds it. */
export function acquireShared<T>(owner: object, key: string, start: () => T, stop: (value: T) => Promise<void>): SharedHold<T> {
  let entries = scopes.get(owner);
  if (!entries) scopes.set(owner, (entries = new Map()));
  let entry = entries.get(key);
  if (!entry) {
    entry = { value: start(), stop: stop as (value: never) => Promise<void>, refs: 0 };
    entries.set(key, entry);
  }
  return holdOf(entries, key, entry);
}

/** Another hold on the value of `key` if someone holds it now, else undefined. */
export function holdExisting<T>(owner: object, key: string): SharedHold<T> | undefined {
  const entries = scopes.get(owner);
  const entry = entries?.get(key);
  return entries && entry ? holdOf(entries, key, entry) : undefined;
}
