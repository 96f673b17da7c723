import { expect } from 'chai';
import net from 'node:net';
import { decodeMessage, makeQuery, makeReply } from '../../core/message.js';
import { rr } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { TcpPool } from './tcp.js';
import { parseAddress } from './to.js';

/** A TCP upstream that collects `batch` queries, then answers them in reverse order, one byte per write. */
async function fakeTcpUpstream(batch: number) {
  const stats = { connections: 0, closed: 0 };
  const server = net.createServer((sock) => {
    stats.connections++;
    sock.on('close', () => stats.closed++);
    let buf = Buffer.alloc(0);
    const queries: Buffer[] = [];
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        queries.push(buf.subarray(2, 2 + buf.readUInt16BE(0)));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      if (queries.length < batch) return;
      const out: Buffer[] = [];
      for (const q of queries.splice(0).reverse()) {
        const m = decodeMessage(q);
        const wire = encodeMessage(makeReply(m, { answer: [rr`${m.question[0]!.name}. 60 IN A 10.0.0.${m.question[0]!.name.length}`] }));
        const frame = Buffer.alloc(2 + wire.length);
        frame.writeUInt16BE(wire.length, 0);
        wire.copy(frame, 2);
        out.push(frame);
      }
      const all = Buffer.concat(out);
      for (let i = 0; i < all.length; i++) sock.write(all.subarray(i, i + 1));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, stats, close: () => new Promise<void>((r) => server.close(() => r())) };
}

describe('forward TCP connections', () => {
  it('pipelines queries on one connection and reassembles replies split across writes, in any order', async () => {
    const up = await fakeTcpUpstream(10);
    const pool = new TcpPool(parseAddress(`127.0.0.1:${up.port}`)!, 10_000);
    try {
      const names = Array.from({ length: 10 }, (_, i) => `${'x'.repeat(i + 1)}.example.test`);
      const replies = await Promise.all(names.map((n) => pool.exchange(encodeMessage(makeQuery(n, 'A', { id: 0 })), { timeoutMs: 2000 })));
      expect(replies.map((r) => decodeMessage(r).answer[0]!.data)).to.deep.equal(names.map((n) => `10.0.0.${n.length}`));
      expect(up.stats.connections).to.equal(1);
    } finally {
      pool.close();
      await up.close();
    }
  });

  it('closes an idle connection after `expire` and opens a new one when needed', async () => {
    const up = await fakeTcpUpstream(1);
    const pool = new TcpPool(parseAddress(`127.0.0.1:${up.port}`)!, 100);
    try {
      await pool.exchange(encodeMessage(makeQuery('a.example.test', 'A', { id: 0 })), { timeoutMs: 2000 });
      for (let i = 0; i < 100 && up.stats.closed === 0; i++) await new Promise((r) => setTimeout(r, 20));
      expect(up.stats.closed).to.equal(1);
      await pool.exchange(encodeMessage(makeQuery('b.example.test', 'A', { id: 0 })), { timeoutMs: 2000 });
      expect(up.stats.connections).to.equal(2);
    } finally {
      pool.close();
      await up.close();
    }
  });
});
