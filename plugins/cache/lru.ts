// An exact, bounded LRU on one Map (insertion order = recency). quick-lru was the first choice, but it is
// generational: it holds up to twice its maxSize, its `size` walks the old generation, and it reports
// evictions for stale duplicates; the cache needs a hard bound and an O(1) entry count for its gauge.

export class Lru<V> {
  readonly #map = new Map<string, V>();
  readonly capacity: number;

  constructor(capacity: number) {
    this.capacity = Math.max(1, Math.floor(capacity));
  }

  get size(): number {
    return this.#map.size;
  }

  /** The value, marked most recently used. */
  get(key: string): V | undefined {
    const v = this.#map.get(key);
    if (v !== undefined) {
      this.#map.delete(key);
      this.#map.set(key, v);
    }
    return v;
  }

  /** The value, recency unchanged. */
  peek(key: string): V | undefined {
    return this.#map.get(key);
  }

  /** Stores the value; returns true when the least recently used entry was evicted to make room. */
  set(key: string, value: V): boolean {
    if (this.#map.delete(key)) {
      this.#map.set(key, value);
      return false;
    }
    this.#map.set(key, value);
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
