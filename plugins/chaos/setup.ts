// chaos: Corefile parsing (`chaos [VERSION] [AUTHORS...]`), the options schema, and setup.
import { hostname } from 'node:os';
import { expectNoBlock, VERSION, type Directive, type Handler, type JsonSchema } from 'nodens';
import { Chaos, trim } from './chaos.js';

const NAME = 'chaos';

/** Who answers authors.bind when the Corefile names nobody (CoreDNS lists its OWNERS). */
export const DEFAULT_AUTHORS: readonly string[] = ['nodens authors'];

export interface ChaosOptions {
  /** Default: nodens-<version>. */
  version?: string;
  /** Default: DEFAULT_AUTHORS. */
  authors?: string[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    version: { type: 'string' },
    authors: { type: 'array', items: { type: 'string' } },
  },
};

export function parse(d: Directive): ChaosOptions {
  expectNoBlock(d, NAME);
  const [version, ...authors] = d.args.map((t) => t.text);
  if (version === undefined) return {};
  if (authors.length === 0) return { version };
  // As CoreDNS: duplicates removed, sorted.
  return { version, authors: [...new Set(authors)].sort() };
}

export function setup(options: ChaosOptions): Handler {
  const chaos = new Chaos({
    version: trim(options.version ?? `nodens-${VERSION}`),
    authors: (options.authors ?? DEFAULT_AUTHORS).map(trim),
    hostname: () => hostname() || 'localhost',
  });
  return { serve: (req, next) => chaos.serve(req, next) };
}
