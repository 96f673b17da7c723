// The whoami handler: tells the client the address, port and transport it came from.
import { makeReply, type Message, type Request, type ResourceRecord } from 'nodens';

/** `::ffff:10.0.0.1` (an IPv4 client on a dual-stack socket) is an IPv4 address. */
function clientAddress(req: Request): { address: string; v4: boolean } {
  const a = req.client.address;
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/i.exec(a);
  if (mapped) return { address: mapped[1]!, v4: true };
  return { address: a, v4: !a.includes(':') };
}

export function serveWhoami(req: Request): Message {
  // CoreDNS's whoami answers with the name as the client wrote it, and TTL 0: nothing to cache.
  const name = req.query.question[0]!.name;
  const cls = req.qclass;
  const { address, v4 } = clientAddress(req);
  const addr: ResourceRecord = v4
    ? { name, ttl: 0, class: cls, type: 'A', data: address }
    : { name, ttl: 0, class: cls, type: 'AAAA', data: address };
  const srv: ResourceRecord = {
    name: name === '' ? `_${req.client.transport}` : `_${req.client.transport}.${name}`,
    ttl: 0, class: cls, type: 'SRV',
    data: { priority: 0, weight: 0, port: req.client.port, target: '' },
  };
  // Both go in the additional section; the answer section stays empty, as in CoreDNS.
  return makeReply(req.query, { aa: true, additional: [addr, srv] });
}
