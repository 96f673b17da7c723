// The listener limits of a whole server over real sockets on 127.0.0.1: the TCP idle timeout, the read
// deadline per frame (slowloris), answers for a half-closed client, new clients admitted under connection
// pressure, the UDP buffer warning, and the CLI's --limit. core/listeners.test.ts drives the unsent-bytes
// bound and the eviction order directly.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
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

describe('UDP socket buffers of a server', () => {
  const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));
  const tooBig = Math.min(2 ** 31 - 1, rmemMax * 4);

  it('warns once, however many listeners the kernel capped, and still serves', async () => {
    const otherPort = await freeUdpPort();
    const s = await startServer(`a.test {\n  echo a\n}\nb.test:${otherPort} {\n  echo b\n}`, {
      plugins: testPlugins, limits: { udpRecvBufferBytes: tooBig },
    });
    try {
      expect(s.server.addresses().map((a) => a.port)).to.have.length(2);
      const warnings = s.logs.filter((l) => l.startsWith('[WARNING]'));
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.include(`sysctl -w net.core.rmem_max=${tooBig}`);
      expect((await s.query('x.a.test', 'TXT')).answer).to.have.length(1);
    } finally {
      await s.close();
    }
  });
});

describe('nodens --limit', function () {
  this.timeout(30_000);
  const ROOT = path.resolve(import.meta.dirname, '..');
  // The CLI from source (as the tests resolve 'nodens'), so this needs no build.
  const cli = (args: string[]): ReturnType<typeof spawn> =>
    spawn(process.execPath, ['--import', 'tsx', '--conditions=nodens-source', path.join(ROOT, 'bin/nodens.ts'), ...args], { cwd: ROOT });
  const corefile = (): string => {
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-limits-')), 'Corefile');
    fs.writeFileSync(file, '.:0 {\n  bind 127.0.0.1\n  errors\n}\n');
    return file;
  };
  const output = (child: ReturnType<typeof spawn>, until: RegExp): Promise<string> => new Promise((resolve, reject) => {
    let out = '';
    const take = (d: Buffer): void => {
      out += String(d);
      if (until.test(out)) resolve(out);
    };
    child.stdout!.on('data', take);
    child.stderr!.on('data', take);
    child.on('close', (code) => (until.test(out) ? resolve(out) : reject(new Error(`exited ${code}: ${out}`))));
  });

  it('reaches the listeners (a receive buffer the kernel caps is warned about)', async () => {
    const child = cli(['-conf', corefile(), '--limit', `udpRecvBufferBytes=${Math.min(2 ** 31 - 1, Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8')) * 4)}`]);
    try {
      const out = await output(child, /serving 127\.0\.0\.1:\d+/);
      expect(out).to.match(/\[WARNING\] UDP receive buffer is .* \(raise net\.core\.rmem_max/);
    } finally {
      child.kill('SIGTERM');
    }
  });

  it('rejects an unknown limit with the names it knows', async () => {
    const child = cli(['-conf', corefile(), '--limit', 'tcpFrame=1']);
    const out = await output(child, /Usage:/);
    expect(out).to.include("nodens: --limit: 'tcpFrame=1' is not NAME=NUMBER with NAME one of tcpIdleMs, tcpFrameMs");
  });
});

/** A UDP port that was free a moment ago (the server binds it right after). */
function freeUdpPort(): Promise<number> {
  const sock = dgram.createSocket('udp4');
  return new Promise((resolve) => sock.bind(0, '127.0.0.1', () => {
    const { port } = sock.address();
    sock.close(() => resolve(port));
  }));
}

/** Resolves once `cond` holds, checking after each turn of the event loop (for conditions with no event). */
function until(cond: () => boolean): Promise<void> {
  return new Promise((resolve) => {
    const check = (): void => (cond() ? resolve() : void setImmediate(check));
    check();
  });
}
