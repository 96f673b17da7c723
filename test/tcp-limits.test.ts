// TCP limits of a whole server over real sockets on 127.0.0.1: the idle timeout, the read deadline per
// frame (slowloris), answers for a half-closed client, and new clients admitted under connection
// pressure. core/listeners.test.ts drives the unsent-bytes bound and the eviction order directly.
import { expect } from 'chai';
import net from 'node:net';
import { decodeMessage, makeQuery, type Message } from '../core/index.js';
import { startServer, type TestServer } from '../core/testing.js';
import { encodeMessage } from '../core/wire.js';
import { testPlugins } from './fixtures/test-plugins.js';

const COREFILE = 'test {\n  slow 600\n  echo limits\n}';
const LIMITS = { tcpIdleMs: 2_000, tcpFrameMs: 300, maxTcpConnections: 4 };

function frame(name: string, id: number): Buffer {
  const wire = encodeMessage(makeQuery(name, 'TXT', { id }));
  const f = Buffer.alloc(2 + wire.length);
  f.writeUInt16BE(wire.length, 0);
  wire.copy(f, 2);
  return f;
}

interface Conn {
  sock: net.Socket;
  answers: Message[];
  answered(n: number): Promise<Message[]>;
  /** Resolves when the server ends its side (FIN), with the answers so far. */
  ended: Promise<Message[]>;
  /** Resolves with the ms from `since` to the close. */
  closed: Promise<number>;
}

function connect(port: number): Promise<Conn> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const answers: Message[] = [];
    const wanted: { n: number; resolve: (a: Message[]) => void }[] = [];
    let buf = Buffer.alloc(0);
    sock.on('data', (chunk: Buffer) => {
      buf = Buffer.concat([buf, chunk]);
      while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        answers.push(decodeMessage(buf.subarray(2, 2 + buf.readUInt16BE(0))));
        buf = buf.subarray(2 + buf.readUInt16BE(0));
      }
      for (const w of wanted.filter((x) => answers.length >= x.n)) w.resolve(answers.slice());
    });
    const t0 = performance.now();
    const conn: Conn = {
      sock, answers,
      answered: (n) => (answers.length >= n ? Promise.resolve(answers.slice()) : new Promise((r) => wanted.push({ n, resolve: r }))),
      ended: new Promise((r) => sock.once('end', () => r(answers.slice()))),
      closed: new Promise((r) => sock.once('close', () => r(performance.now() - t0))),
    };
    sock.on('error', () => {}); // a reset is what some rows expect; 'close' follows
    sock.once('connect', () => resolve(conn));
    sock.once('error', reject);
  });
}

const names = (ms: readonly Message[]): string[] => ms.map((m) => m.question[0]?.name ?? '');

/** Writes `bytes` in pieces of `size`, one every `gapMs` (the client under test is slow on purpose). */
function trickle(sock: net.Socket, bytes: Buffer, size: number, gapMs: number): { sent: () => number; stop: () => void } {
  let at = 0;
  const timer = setInterval(() => {
    if (at >= bytes.length || sock.destroyed) return clearInterval(timer);
    sock.write(bytes.subarray(at, at + size));
    at += size;
  }, gapMs);
  return { sent: () => at, stop: () => clearInterval(timer) };
}

describe('TCP limits', function () {
  this.timeout(20_000);
  let s: TestServer;
  before(async () => {
    s = await startServer(COREFILE, { plugins: testPlugins, limits: LIMITS });
  });
  after(() => s.close());

  it('closes a connection that stays idle past the idle timeout', async () => {
    const c = await connect(s.port);
    expect(await c.closed).to.be.within(LIMITS.tcpIdleMs - 100, LIMITS.tcpIdleMs + 3000);
  });

  describe('read deadline per frame (tcpFrameMs)', () => {
    it('cuts a frame trickled one byte at a time (slowloris), long before the idle timeout', async () => {
      const c = await connect(s.port);
      const bytes = frame('x.test', 1);
      const t = trickle(c.sock, bytes, 1, 40); // the frame would take about 1.2 s
      const after = await c.closed;
      t.stop();
      expect(after).to.be.within(LIMITS.tcpFrameMs - 50, LIMITS.tcpIdleMs - 500);
      expect(t.sent()).to.be.below(bytes.length);
      expect(c.answers).to.deep.equal([]);
    });

    const rows: { name: string; frames: number; pieces: number; gapMs: number }[] = [
      { name: 'answers a frame that arrives in two pieces within the deadline', frames: 1, pieces: 2, gapMs: 100 },
      // The clock restarts for each frame: 6 frames in 3 pieces, 60 ms apart, take about 1 s in all.
      { name: 'answers pipelined frames that each complete in time, for longer than the deadline in all', frames: 6, pieces: 3, gapMs: 60 },
    ];
    for (const row of rows) {
      it(row.name, async () => {
        const c = await connect(s.port);
        const bytes = Buffer.concat(Array.from({ length: row.frames }, (_, i) => frame(`f${i}.test`, i)));
        const size = Math.ceil(bytes.length / (row.frames * row.pieces));
        trickle(c.sock, bytes, size, row.gapMs);
        const answers = await c.answered(row.frames);
        expect(names(answers)).to.deep.equal(Array.from({ length: row.frames }, (_, i) => `f${i}.test`));
        expect(c.sock.destroyed).to.equal(false);
        c.sock.destroy();
      });
    }
  });

  describe('a half-closed client (query, then FIN)', () => {
    const rows: { name: string; queries: string[]; tail?: Buffer }[] = [
      { name: 'gets the answers that were still being computed, then our FIN', queries: ['slow-a.test', 'fast.test', 'slow-b.test'] },
      { name: 'gets the answers to its whole frames when a partial one is left at FIN', queries: ['slow-c.test'], tail: Buffer.from([0, 40, 1, 2]) },
    ];
    for (const row of rows) {
      it(row.name, async () => {
        const c = await connect(s.port);
        c.sock.end(Buffer.concat([...row.queries.map((q, i) => frame(q, i)), ...(row.tail ? [row.tail] : [])]));
        const answered = await c.ended;
        expect(names(answered).sort()).to.deep.equal([...row.queries].sort());
        for (const m of answered) expect(m.answer[0]).to.deep.include({ type: 'TXT', data: ['limits zone=test'] });
        await c.closed;
      });
    }
  });

  describe('connection pressure (maxTcpConnections)', () => {
    it('admits a new client by closing the oldest idle connection', async () => {
      const held: Conn[] = [];
      for (let i = 0; i < LIMITS.maxTcpConnections; i++) {
        const c = await connect(s.port);
        c.sock.write(frame(`held${i}.test`, i));
        await c.answered(1); // registered by the server, and idle from now on
        held.push(c);
      }
      // A client that got TC=1 over UDP and retries over TCP: it must get its answer, not a refusal.
      const m = await s.query('retry.test', 'TXT', { transport: 'tcp' });
      expect(m.answer[0]).to.deep.include({ type: 'TXT', data: ['limits zone=test'] });
      await held[0]!.closed;
      expect(held.slice(1).map((c) => c.sock.destroyed)).to.deep.equal([false, false, false]);
      for (const c of held) c.sock.destroy();
    });

    it('refuses a new client while every connection has a query in flight', async () => {
      const held: Conn[] = [];
      for (let i = 0; i < LIMITS.maxTcpConnections; i++) {
        const c = await connect(s.port);
        c.sock.write(frame(`held${i}.test`, i));
        await c.answered(1);
        held.push(c);
      }
      const logged = s.logs.length;
      held.forEach((c, i) => c.sock.write(frame(`slow-held${i}.test`, 10 + i)));
      // The slow plugin logs each name it holds: once all are held, every connection is busy.
      await until(() => s.logs.slice(logged).filter((l) => l.includes('holding slow-held')).length === LIMITS.maxTcpConnections);
      const refused = await connect(s.port);
      refused.sock.write(frame('refused.test', 99));
      await refused.closed;
      expect(refused.answers).to.deep.equal([]);
      const answered = await Promise.all(held.map((c) => c.answered(2)));
      expect(answered.map((a) => a[1]?.question[0]?.name)).to.deep.equal(held.map((_, i) => `slow-held${i}.test`));
      for (const c of held) c.sock.destroy();
    });
  });
});

/** Resolves once `cond` holds, checking after each turn of the event loop (for conditions with no event). */
function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => (cond() ? resolve() : void setImmediate(check));
    check();
  });
}
