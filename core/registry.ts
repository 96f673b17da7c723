// The plugin registry: built-ins in their fixed execution order (our plugin.cfg), plus external
// plugins placed before or after a built-in. Corefile order never decides execution order.
import type { AnyPlugin } from './plugin.js';

/**
 * CoreDNS's plugin.cfg order for the plugins nodens has or builds (a name without a built-in yet is skipped).
 * ratelimit is not in CoreDNS's tree; it runs where its external plugin sits, after acl.
 */
export const EXECUTION_ORDER = [
  'metadata', 'tls', 'timeouts', 'reload', 'nsid', 'bufsize', 'ready', 'health', 'prometheus', 'errors', 'log',
  'local', 'acl', 'ratelimit', 'any', 'chaos', 'loadbalance', 'cache', 'rewrite', 'autopath', 'minimal', 'template',
  'hosts', 'k8s_external', 'kubernetes', 'etcd', 'loop', 'forward',
] as const;

export class Registry {
  readonly #plugins = new Map<string, AnyPlugin>();
  #order: string[] = [];

  constructor(builtins: readonly AnyPlugin[] = []) {
    for (const p of builtins) this.#plugins.set(p.name, p);
    this.#order = builtins.map((p) => p.name);
  }

  /** Adds an external plugin at the place it asks for (before/after a registered plugin; default: before forward). */
  add(plugin: AnyPlugin): void {
    if (this.#plugins.has(plugin.name)) throw new Error(`plugin ${plugin.name} is already registered`);
    const anchor = plugin.before ?? plugin.after;
    let at: number;
    if (anchor !== undefined) {
      const i = this.#order.indexOf(anchor);
      if (i < 0) throw new Error(`plugin ${plugin.name}: cannot run ${plugin.before ? 'before' : 'after'} '${anchor}': no such plugin`);
      at = plugin.before !== undefined ? i : i + 1;
    } else {
      const forward = this.#order.indexOf('forward');
      at = forward < 0 ? this.#order.length : forward;
    }
    this.#plugins.set(plugin.name, plugin);
    this.#order.splice(at, 0, plugin.name);
  }

  get(name: string): AnyPlugin | undefined {
    return this.#plugins.get(name);
  }

  /** Plugin names in execution order. */
  order(): readonly string[] {
    return this.#order;
  }

  /** Position of a plugin in the execution order (for sorting a block's directives). */
  rank(name: string): number {
    return this.#order.indexOf(name);
  }
}
