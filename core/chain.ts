// Composes a server block's handlers into one function, in registry order (Hono's compose, for DNS).
import { Rcode, type Reply } from './message.js';
import type { WireAnswer } from './message.js';
import { DnsError, isDnsError, type FastPath, type Handler, type Next, type Request } from './plugin.js';
import { deriveRequest } from './request.js';

export interface ChainLink {
  readonly name: string;
  readonly handler: Handler;
}

export type Chain = (req: Request) => Reply | Promise<Reply>;

/** The plugin an error came from: set by the innermost link it passed through. */
const ERROR_PLUGIN = Symbol('nodens.plugin');
type Tagged = { [ERROR_PLUGIN]?: string };

export function errorPlugin(err: unknown): string | undefined {
  return typeof err === 'object' && err !== null ? (err as Tagged)[ERROR_PLUGIN] : undefined;
}

function tag(err: unknown, name: string): never {
  if (typeof err === 'object' && err !== null && (err as Tagged)[ERROR_PLUGIN] === undefined) {
    (err as Tagged)[ERROR_PLUGIN] = name;
    if (isDnsError(err)) err.plugin ??= name;
  }
  throw err;
}

/** The innermost plugin that returned a reply (for the `plugin` label of coredns_dns_responses_total). */
type Producer = { producer?: string };

/** Falling off the end of the chain is a server misconfiguration, answered SERVFAIL. */
function endOfChain(): never {
  throw new DnsError(Rcode.SERVFAIL, 'no next plugin found');
}

export function compose(links: readonly ChainLink[]): Chain {
  const steps = links.filter((l) => l.handler.serve !== undefined);
  return (root) => {
    // `req` is the root request until a plugin calls next(changes); the producer is always noted on the root.
    const dispatch = (i: number, req: Request): Reply | Promise<Reply> => {
      if (i === steps.length) return endOfChain();
      const { name, handler } = steps[i]!;
      const next: Next = (changes) => dispatch(i + 1, changes === undefined ? req : deriveRequest(req, changes));
      let result: Reply | Promise<Reply>;
      try {
        result = handler.serve!(req, next);
      } catch (err) {
        return tag(err, name);
      }
      if (!(result instanceof Promise)) {
        (root as Producer).producer ??= name;
        return result;
      }
      return result.then((reply) => {
        (root as Producer).producer ??= name;
        return reply;
      }, (err: unknown) => tag(err, name));
    };
    return dispatch(0, root);
  };
}

/** A block's fast path: the fast hooks of its chain, in order (docs/fast-path.md). */
export interface FastChain {
  readonly links: readonly { readonly name: string; readonly fast: FastPath }[];
  /** The index of the first link with a shape hook (links.length if none): answers from links after it are shaped. */
  readonly firstShaper: number;
  /** The links with a `sent` hook. */
  readonly sent: readonly FastPath[];
}

/** The fast path of a chain, or undefined when a handler with serve() has no fast hooks. */
export function composeFast(links: readonly ChainLink[]): FastChain | undefined {
  const steps = links.filter((l) => l.handler.serve !== undefined);
  if (steps.length === 0 || steps.some((l) => l.handler.fast === undefined)) return undefined;
  const fastLinks = steps.map((l) => ({ name: l.name, fast: l.handler.fast! }));
  const firstShaper = fastLinks.findIndex((l) => l.fast.shape !== undefined);
  return {
    links: fastLinks,
    firstShaper: firstShaper < 0 ? fastLinks.length : firstShaper,
    sent: fastLinks.filter((l) => l.fast.sent !== undefined).map((l) => l.fast),
  };
}

/** The shape hooks of the links before `answeredAt`, innermost first (the order serve() wrappers see a reply). */
export function shapeReply(links: FastChain['links'], answeredAt: number, req: Request, reply: WireAnswer): WireAnswer {
  for (let i = answeredAt - 1; i >= 0; i--) {
    const fast = links[i]!.fast;
    if (fast.shape) reply = fast.shape(req, reply);
  }
  return reply;
}
