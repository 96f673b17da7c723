// Per-query metadata (CoreDNS's plugin/metadata): labels `plugin/name` with values computed on first read.
import type { Metadata } from './plugin.js';

type Value = string | (() => string | undefined);

/** Is `label` a metadata label, `plugin/name` (CoreDNS's metadata.IsLabel)? */
export function isMetadataLabel(label: string): boolean {
  const slash = label.indexOf('/');
  return slash > 0 && slash < label.length - 1;
}

/** What a memoised function that returned nothing is remembered as. */
const NO_VALUE: unique symbol = Symbol('nodens.metadata.none');

export class RequestMetadata implements Metadata {
  readonly #values = new Map<string, Value | typeof NO_VALUE>();

  set(label: string, value: Value): void {
    if (!isMetadataLabel(label)) throw new TypeError(`metadata label '${label}' is not of the form plugin/name`);
    this.#values.set(label, value);
  }

  get(label: string): string | undefined {
    const value = this.#values.get(label);
    if (value === undefined || value === NO_VALUE) return undefined;
    if (typeof value === 'string') return value;
    const computed = value();
    this.#values.set(label, computed ?? NO_VALUE);
    return computed;
  }

  labels(): readonly string[] {
    return [...this.#values.keys()];
  }
}
