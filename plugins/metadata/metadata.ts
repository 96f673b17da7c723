// The metadata handler: before the rest of the chain runs, every plugin of the block that publishes
// metadata sets its labels on the query (CoreDNS's metadata.Collect), lazily computed where it can.
import { matchZone, type Handler, type Next, type Reply, type Request } from 'nodens';

/** A handler that publishes labels (`kubernetes/client-namespace`): CoreDNS's metadata.Provider. */
export type Provider = Handler & Required<Pick<Handler, 'metadata'>>;

export class Collector {
  #providers: readonly Provider[] | undefined;

  constructor(
    private readonly zones: readonly string[],
    /** Asked on the first query, when every plugin of the block is set up. */
    private readonly findProviders: () => readonly Provider[],
  ) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    const providers = (this.#providers ??= this.findProviders());
    if (providers.length > 0 && matchZone(req.qname, this.zones) !== undefined) {
      for (const p of providers) p.metadata(req);
    }
    return next();
  }
}
