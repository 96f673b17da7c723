// An exact, bounded LRU on one Map (insertion order = recency). quick-lru was the first choice, but it is
// generational: it holds up to twice its maxSize, its `size` walks the old generation, and it reports
// evictions for stale duplicates; the cache needs a hard bound and an O(1) entry count for its gauge.

interface Node<V> {
  value: V;
  /** The clock when it was last moved to the young end. */
  stamp: number;
}

/**
 * Recency is tracked lazily: a hit moves an entry to the young end only once it has drifted into the
 * older half (more than capacity/2 insertions ago). A hot entry therefore costs one Map lookup per hit
 * instead of a delete and a set, and it still can never be the next one evicted.
 */
export class Lru<V> {
  readonly #map = new Map<string, Node<V>>();
  readonly capacity: number;
  #clock = 0;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marked recently used. */
  get(key: string): V | undefined {
    const n = this.#map.get(key);
    if (n === undefined) return undefined;
    if (this.#clock - n.stamp > this.capacity >> 1) {
      this.#map.delete(key);
      this.#map.set(key, n);
      n.stamp = ++this.#clock;
    }
    return n.value;
  }

  /** The value, recency unchanged. */
  peek(key: string): V | undefined {
    return this.#map.get(key)?.value;
  }

  /** Stores the value; returns true when the least recently used entry was evicted to make room. */
  set(key: string, value: V): boolean {
    const stamp = ++this.#clock;
    if (this.#map.delete(key)) {
      this.#map.set(key, { value, stamp });
      return false;
    }
    this.#map.set(key, { value, stamp });
    if (this.#map.size <= this.capacity) return false;
    this.#map.delete(this.#map.keys().next().value as string);
    return true;
  }

  delete(key: string): boolean {
    return this.#map.delete(key);
  }

  clear(): void {
    this.#map.clear();
  }
}
