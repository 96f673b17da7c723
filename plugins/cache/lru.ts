// A bounded LRU on one Map (insertion order = recency), keyed by owner name and, within a name, by a
// number (the cache's variant: type, class, DO and CD). quick-lru was the first choice, but it is
// generational: it holds up to twice its maxSize, its `size` walks the old generation, and it reports
// evictions for stale duplicates; the cache needs a hard bound and an O(1) entry count for its gauge.
// Keyed by the name itself (the query's flat, already-hashed string) so that a hit builds no key string:
// a composed key costs a concatenation, a flatten and a hash per lookup (~0.35 µs measured).

interface Entry<V> {
  readonly variant: number;
  value: V;
}

/**
 * A name's entries. The first variant stored lives in the slot itself: most names have one, and a hit on
 * it then reads no array and no entry object, each of which is a likely CPU cache miss under load.
 */
interface Slot<V> {
  variant: number;
  value: V;
  /** Further variants (AAAA beside A, ...): a handful at most. */
  more: Entry<V>[] | undefined;
  /** The clock when it was last moved to the young end. */
  stamp: number;
}

/**
 * Recency is per name and tracked lazily: a hit moves a name to the young end only once it has drifted
 * into the older half (more than capacity/2 insertions ago). A hot name therefore costs one Map lookup per
 * hit instead of a delete and a set, and it can never be the next one evicted. Evicting a name evicts all
 * its variants (CoreDNS's own cache evicts at random; the bound is what matters).
 */
export class Lru<V> {
  readonly #map = new Map<string, Slot<V>>();
  readonly capacity: number;
  #clock = 0;
  #size = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  /** Entries held (variants counted one by one). */
  get size(): number {
    return this.#size;
  }

  /** The value, marked recently used. */
  get(name: string, variant = 0): V | undefined {
    const slot = this.#map.get(name);
    if (slot === undefined) return undefined;
    let value: V;
    if (slot.variant === variant) value = slot.value;
    else {
      const entry = find(slot.more, variant);
      if (entry === undefined) return undefined;
      value = entry.value;
    }
    if (this.#clock - slot.stamp > this.capacity >> 1) {
      this.#map.delete(name);
      this.#map.set(name, slot);
      slot.stamp = ++this.#clock;
    }
    return value;
  }

  /** The value, recency unchanged. */
  peek(name: string, variant = 0): V | undefined {
    const slot = this.#map.get(name);
    if (slot === undefined) return undefined;
    return slot.variant === variant ? slot.value : find(slot.more, variant)?.value;
  }

  /** Stores the value; returns how many entries were evicted to make room (0 usually). */
  set(name: string, value: V, variant = 0): number {
    const stamp = ++this.#clock;
    let slot = this.#map.get(name);
    if (slot !== undefined) {
      this.#map.delete(name);
      slot.stamp = stamp;
      if (slot.variant === variant) slot.value = value;
      else {
        const entry = find(slot.more, variant);
        if (entry !== undefined) entry.value = value;
        else {
          (slot.more ??= []).push({ variant, value });
          this.#size++;
        }
      }
    } else {
      slot = { variant, value, more: undefined, stamp };
      this.#size++;
    }
    this.#map.set(name, slot);
    let evicted = 0;
    while (this.#size > this.capacity) {
      const oldest = this.#map.keys().next().value as string;
      if (oldest === name && this.#map.size === 1) {
        // One name with more variants than the capacity: drop its oldest variant.
        dropFirst(slot);
        this.#size--;
        evicted++;
        continue;
      }
      const n = 1 + (this.#map.get(oldest)!.more?.length ?? 0);
      this.#map.delete(oldest);
      this.#size -= n;
      evicted += n;
    }
    return evicted;
  }

  delete(name: string, variant = 0): boolean {
    const slot = this.#map.get(name);
    if (slot === undefined) return false;
    if (slot.variant === variant) {
      if (slot.more === undefined || slot.more.length === 0) this.#map.delete(name);
      else dropFirst(slot);
    } else {
      const i = slot.more?.findIndex((e) => e.variant === variant) ?? -1;
      if (i < 0) return false;
      slot.more!.splice(i, 1);
    }
    this.#size--;
    return true;
  }

  clear(): void {
    this.#map.clear();
    this.#size = 0;
  }
}

function find<V>(more: Entry<V>[] | undefined, variant: number): Entry<V> | undefined {
  if (more === undefined) return undefined;
  for (let i = 0; i < more.length; i++) if (more[i]!.variant === variant) return more[i];
  return undefined;
}

/** Drops the slot's first (oldest) variant; the next one, which must exist, takes its place. */
function dropFirst<V>(slot: Slot<V>): void {
  const next = slot.more!.shift()!;
  slot.variant = next.variant;
  slot.value = next.value;
}
