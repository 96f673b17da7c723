// metadata: Corefile parsing (`metadata [ZONES...]`), the options schema, and setup (finding the
// block's metadata providers).
import { expectNoBlock, normalizeZone, zonesArg, type Directive, type Handler, type JsonSchema, type ParseContext, type SetupEnv } from 'nodens';
import { Collector, type Provider } from './metadata.js';

const NAME = 'metadata';

export interface MetadataOptions {
  /** Default: the server block's zones. */
  zones?: string[];
}

export const schema: JsonSchema = {
  type: 'object', additionalProperties: false, properties: { zones: { type: 'array', items: { type: 'string' } } },
};

export function parse(d: Directive, ctx: ParseContext): MetadataOptions {
  expectNoBlock(d, NAME);
  return d.args.length > 0 ? { zones: zonesArg(d.args, ctx, NAME) } : {};
}

/** The handlers of this server block that publish metadata (CoreDNS: every metadata.Provider of the config). */
function providersOf(env: SetupEnv): () => Provider[] {
  // A block's instances share its zones array; every instance is set up before the first query.
  return () => env.instances().filter((i) => i.zones === env.zones && i.handler.metadata !== undefined).map((i) => i.handler as Provider);
}

export function setup(options: MetadataOptions, env: SetupEnv): Handler {
  const collector = new Collector(options.zones?.map(normalizeZone) ?? env.zones, providersOf(env));
  return { serve: (req, next) => collector.serve(req, next) };
}
