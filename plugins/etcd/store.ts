// The mirror's in-memory copy of the keys under PATH: a tree of key segments, so that the lookups
// CoreDNS sends to etcd (a prefix get, then an exact get) become a walk.
import type { Service } from './msg.js';
import { reversedLabels } from './msg.js';

interface Node {
  readonly children: Map<string, Node>;
  service?: Service;
  /** The children's names in key order, computed on first use after a change. */
  sorted?: string[];
}

const newNode = (): Node => ({ children: new Map() });

const isWildcard = (label: string): boolean => label === '*' || label === 'any';

export class ServiceTree {
  #root: Node = newNode();
  #size = 0;
  /** PATH, normalised ('/skydns'). */
  readonly base: string;

  constructor(base: string) {
    this.base = base;
  }

  get size(): number {
    return this.#size;
  }

  /** The segments of a key below PATH, or undefined for a key outside it. */
  segments(key: string): string[] | undefined {
    const head = this.base === '/' ? '/' : `${this.base}/`;
    if (!key.startsWith(head)) return undefined;
    return key.slice(head.length).split('/');
  }

  set(service: Service): void {
    const segs = this.segments(service.key);
    if (!segs) return;
    let node = this.#root;
    for (const s of segs) {
      let child = node.children.get(s);
      if (!child) {
        child = newNode();
        node.children.set(s, child);
        node.sorted = undefined;
      }
      node = child;
    }
    if (!node.service) this.#size++;
    node.service = service;
  }

  delete(key: string): void {
    const segs = this.segments(key);
    if (!segs) return;
    const path: Node[] = [this.#root];
    for (const s of segs) {
      const child = path[path.length - 1]!.children.get(s);
      if (!child) return;
      path.push(child);
    }
    const leaf = path[path.length - 1]!;
    if (!leaf.service) return;
    leaf.service = undefined;
    this.#size--;
    // Prune nodes left with neither a service nor children, so a deleted name becomes NXDOMAIN.
    for (let i = path.length - 1; i > 0; i--) {
      const n = path[i]!;
      if (n.service || n.children.size > 0) break;
      const parent = path[i - 1]!;
      parent.children.delete(segs[i - 1]!);
      parent.sorted = undefined;
    }
  }

  /** Every service, in key order. */
  all(): Service[] {
    const out: Service[] = [];
    if (this.#root.service) out.push(this.#root.service);
    collect(this.#root, out);
    return out;
  }

  /**
   * The services of a name, as CoreDNS's etcd plugin finds them: every key strictly below the
   * name's key (a prefix get of "KEY/"), or failing that the key itself. `exact` looks at the key
   * alone. undefined: no such name (NXDOMAIN); an empty list: the name exists without records.
   * A `*` or `any` label matches any one label, as CoreDNS's PathWithWildcard does.
   */
  lookup(name: string, exact: boolean): readonly Service[] | undefined {
    const labels = reversedLabels(name);
    const star = labels.findIndex(isWildcard);
    const node = this.#walk(star < 0 ? labels : labels.slice(0, star));
    if (!node) return undefined;
    if (star < 0) {
      if (exact) return node.service ? [node.service] : node.children.size > 0 ? [] : undefined;
      const below: Service[] = [];
      collect(node, below);
      if (below.length > 0) return below;
      return node.service ? [node.service] : undefined;
    }
    let candidates: Service[] = [];
    if (!exact) collect(node, candidates);
    if (candidates.length === 0 && node.service) candidates = [node.service];
    if (candidates.length === 0) return undefined;
    return candidates.filter((s) => {
      const segs = this.segments(s.key)!;
      for (let i = 0; i < labels.length; i++) {
        if (i >= segs.length) return false; // the name is longer than the key
        if (!isWildcard(labels[i]!) && segs[i] !== labels[i]) return false;
      }
      return true;
    });
  }

  #walk(labels: readonly string[]): Node | undefined {
    let node: Node | undefined = this.#root;
    for (const l of labels) {
      node = node.children.get(l);
      if (!node) return undefined;
    }
    return node;
  }
}

/** Appends the services strictly below `node`, depth first in key order. */
function collect(node: Node, out: Service[]): void {
  node.sorted ??= [...node.children.keys()].sort();
  for (const name of node.sorted) {
    const child = node.children.get(name)!;
    if (child.service) out.push(child.service);
    if (child.children.size > 0) collect(child, out);
  }
}
