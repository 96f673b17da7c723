// Robustness: 60,000 random and mutated packets over UDP and TCP; the server must stay up and keep answering.
import { expect } from 'chai';
import dnsPacket from 'dns-packet';
import dgram from 'node:dgram';
import net from 'node:net';
import { Rcode } from '../core/index.js';
import { startServer, type TestServer } from '../core/testing.js';
import { testPlugins } from './fixtures/test-plugins.js';

/** A small deterministic PRNG, so a failure can be replayed. */
function prng(seed: number): () => number {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

const SEEDS = [
  dnsPacket.encode({ id: 1, type: 'query', flags: 256, questions: [{ name: 'a.fuzz.test', type: 'A' }] }),
  dnsPacket.encode({
    id: 2, type: 'query', questions: [{ name: 'big.fuzz.test', type: 'TXT' }],
    additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: 0x8000 } as dnsPacket.Answer],
  }),
  dnsPacket.encode({
    id: 3, type: 'response', questions: [{ name: 'c.fuzz.test', type: 'SRV' }],
    answers: [{ name: 'c.fuzz.test', type: 'SRV', data: { port: 1, target: 'x.fuzz.test', priority: 0, weight: 0 } }],
  }),
];

/** One hostile packet: random bytes, a truncation, bit flips, a compression loop, huge counts or bad labels. */
function hostilePacket(rand: () => number): Buffer {
  const seed = Buffer.from(SEEDS[Math.floor(rand() * SEEDS.length)]!);
  switch (Math.floor(rand() * 6)) {
    case 0: return Buffer.from(Array.from({ length: Math.floor(rand() * 64) }, () => Math.floor(rand() * 256)));
    case 1: return seed.subarray(0, Math.floor(rand() * seed.length));
    case 2: {
      for (let i = 0; i < 1 + rand() * 6; i++) seed[Math.floor(rand() * seed.length)] = Math.floor(rand() * 256);
      seed[2] = seed[2]! & 0x7f; // keep it a query so the server reads further than the header
      return seed;
    }
    case 3: {
      // A name that points at itself.
      const p = Buffer.from(seed.subarray(0, 12));
      p.writeUInt16BE(1, 4);
      return Buffer.concat([p, Buffer.from([0xc0, 12, 0, 1, 0, 1])]);
    }
    case 4: {
      seed.writeUInt16BE(0xffff, 6 + 2 * Math.floor(rand() * 3));
      seed[2] = seed[2]! & 0x7f;
      return seed;
    }
    default: {
      const p = Buffer.from(seed);
      p[12] = 64 + Math.floor(rand() * 191); // a label length over 63
      return p;
    }
  }
}

describe('robustness against hostile packets', function () {
  this.timeout(120_000);
  let s: TestServer;
  before(async () => {
    s = await startServer('fuzz.test {\n big 3\n}', { plugins: testPlugins });
  });
  after(() => s.close());

  it('survives 40,000 hostile UDP datagrams and still answers', async () => {
    const rand = prng(1);
    const sock = dgram.createSocket('udp4');
    let replies = 0;
    sock.on('message', () => replies++);
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    for (let batch = 0; batch < 400; batch++) {
      await Promise.all(Array.from({ length: 100 }, () => new Promise<void>((r) => sock.send(hostilePacket(rand), s.port, '127.0.0.1', () => r()))));
      // Pace the flood by a round trip, so the kernel's receive buffer does not drop most of it unread.
      await s.query('pace.fuzz.test', 'A', { timeoutMs: 1000 }).catch(() => undefined);
    }
    // The flood may have filled the socket's receive buffer: ask until the backlog drains (bounded).
    let m;
    for (let attempt = 0; attempt < 10 && !m; attempt++) m = await s.query('ok.fuzz.test', 'A', { timeoutMs: 1000 }).catch(() => undefined);
    sock.close();
    if (!m) throw new Error('the server stopped answering after the flood');
    expect(replies).to.be.above(1000); // it answered what it could (FORMERR and friends)
    expect(m.rcode).to.equal(Rcode.NOERROR);
    expect(m.answer).to.have.length(3);
  });

  it('survives 20,000 hostile TCP frames over several connections and still answers', async () => {
    const rand = prng(2);
    for (let conn = 0; conn < 20; conn++) {
      const frames: Buffer[] = [];
      for (let i = 0; i < 1000; i++) {
        const p = hostilePacket(rand);
        const f = Buffer.alloc(2 + p.length);
        f.writeUInt16BE(p.length, 0);
        p.copy(f, 2);
        frames.push(f);
      }
      // The last connection ends in a frame that claims more bytes than it sends.
      if (conn === 19) frames.push(Buffer.from([0xff, 0xff, 1, 2, 3]));
      await new Promise<void>((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port: s.port });
        sock.on('connect', () => sock.end(Buffer.concat(frames)));
        sock.on('data', () => {});
        sock.on('close', () => resolve());
        sock.on('error', (err: NodeJS.ErrnoException) => (err.code === 'ECONNRESET' ? resolve() : reject(err)));
      });
    }
    const m = await s.query('ok.fuzz.test', 'A', { transport: 'tcp' });
    expect(m.rcode).to.equal(Rcode.NOERROR);
    expect(m.answer).to.have.length(3);
  });
});
