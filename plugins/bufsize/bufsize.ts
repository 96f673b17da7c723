// The bufsize handler: a query whose EDNS buffer size is over the limit goes on with the limit, so
// what the chain sends upstream and the UDP answer to the client both fit it (no IP fragmentation).
import type { Next, Reply, Request } from 'nodens';

export function serveBufsize(req: Request, next: Next, size: number): Reply | Promise<Reply> {
  // Only queries with an OPT record, and only downwards.
  if (!req.edns || req.udpSize <= size) return next();
  return next({ udpSize: size });
}
