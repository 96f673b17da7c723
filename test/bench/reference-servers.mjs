// Reference servers for `npm run bench`, run as their own processes:
//   node reference-servers.mjs ceiling PORT       a dgram server answering with pre-built bytes (the Node ceiling)
//   node reference-servers.mjs dns2 PORT HOSTS    dns2 answering A records from a hosts file
// Each prints "listening PORT" once bound. Loopback only.
import dgram from 'node:dgram';
import fs from 'node:fs';
import { createRequire } from 'node:module';

const [kind, portArg, hostsFile] = process.argv.slice(2);
const port = Number(portArg);

if (kind === 'ceiling') {
  // The answer record is fixed bytes: a pointer to the question, type A, class IN, TTL 60, 10.0.0.1.
  const answer = Buffer.from([0xc0, 0x0c, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1]);
  // The same synchronous lookup for IP literals nodens' listeners use: without it dgram defers every send
  // through dns.lookup, and the "ceiling" would be slower than nodens itself.
  const sock = dgram.createSocket({ type: 'udp4', lookup: (address, _opts, cb) => cb(null, address, 4) });
  sock.on('message', (msg, rinfo) => {
    if (msg.length < 12) return;
    const out = Buffer.allocUnsafe(msg.length + answer.length);
    msg.copy(out);
    out[2] = 0x84 | (msg[2] & 0x01);
    out[3] = 0;
    out.writeUInt16BE(1, 6);
    out.writeUInt16BE(0, 8);
    out.writeUInt16BE(0, 10);
    answer.copy(out, msg.length);
    sock.send(out, rinfo.port, rinfo.address);
  });
  sock.bind(port, '127.0.0.1', () => console.log(`listening ${sock.address().port}`));
} else if (kind === 'dns2') {
  const dns2 = createRequire(import.meta.url)('dns2');
  const { Packet } = dns2;
  const table = new Map();
  for (const line of fs.readFileSync(hostsFile, 'utf8').split('\n')) {
    const [ip, name] = line.trim().split(/\s+/);
    if (ip && name) table.set(name.toLowerCase(), ip);
  }
  const server = dns2.createServer({
    udp: true,
    handle: (request, send) => {
      const response = Packet.createResponseFromRequest(request);
      const [q] = request.questions;
      const ip = table.get(q.name.toLowerCase());
      if (ip) response.answers.push({ name: q.name, type: Packet.TYPE.A, class: Packet.CLASS.IN, ttl: 3600, address: ip });
      else response.header.rcode = 3;
      send(response);
    },
  });
  server.on('listening', () => console.log(`listening ${port}`));
  server.listen({ udp: { port, address: '127.0.0.1' } });
} else {
  console.error(`unknown reference server ${kind}`);
  process.exit(2);
}
