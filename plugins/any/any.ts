// The any handler: an ANY query gets one short HINFO record instead of everything (RFC 8482 §4.2).
import { makeReply, type Next, type Reply, type Request } from 'nodens';

/** CoreDNS's HINFO, TTL 8482 (plugin/any/any.go). */
const CPU = 'ANY obsoleted';
const OS = 'See RFC 8482';
const TTL = 8482;

export function serveAny(req: Request, next: Next): Reply | Promise<Reply> {
  if (req.qtype !== 'ANY') return next();
  const name = req.query.question[0]!.name;
  return makeReply(req.query, { answer: [{ name, ttl: TTL, class: 'IN', type: 'HINFO', data: { cpu: CPU, os: OS } }] });
}
