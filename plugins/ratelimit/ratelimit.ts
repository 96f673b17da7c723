// The ratelimit handler: a UDP query whose client prefix is over its rate is dropped, or, every
// `slip`th time, answered with an empty TC=1 reply (a real client retries over TCP, which is not limited).
import { DropQuery, makeReply, matchZone, type Next, type Reply, type Request } from 'nodens';
import type { Limiter } from './limiter.js';

export interface RatelimitEvents {
  dropped(req: Request): void;
  slipped(req: Request): void;
}

export class Ratelimit {
  constructor(private readonly zones: readonly string[], private readonly limiter: Limiter, private readonly events: RatelimitEvents) {}

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    // TCP proves the client's address: neither spoofed nor a reflection, so never limited.
    if (req.client.transport !== 'udp' || matchZone(req.qname, this.zones) === undefined) return next();
    switch (this.limiter.check(req.client.address)) {
      case 'pass':
        return next();
      case 'slip':
        this.events.slipped(req);
        return makeReply(req.query, { tc: true });
      case 'drop':
        this.events.dropped(req);
        throw new DropQuery('ratelimit: over responses-per-second');
    }
  }
}
