// The listener's limits over real sockets on 127.0.0.1, with a handler that treats frames as opaque text
// ("echo:..." is answered at once with its own bytes, "hold:..." when the test lets it go), so that each
// limit can be driven exactly: unsent reply bytes, connection pressure, UDP socket buffers.
import { expect } from 'chai';
import fs from 'node:fs';
import net from 'node:net';
import { DEFAULT_LIMITS, Listener, parseLimit, type ListenerLimits } from './listeners.js';

interface Harness {
  listener: Listener;
  /** Answers of held frames, by frame text: call to let one go. */
  held: Map<string, () => void>;
  /** Frames the handler was asked to answer. */
  served: number;
  /** Resolves when the handler holds a frame with this text. */
  holding(text: string): Promise<void>;
  warnings: string[];
}

async function startListener(limits: Partial<ListenerLimits>, answer: (wire: Buffer) => Buffer = (w) => w): Promise<Harness> {
  const waiting = new Map<string, () => void>();
  const h: Harness = {
    listener: undefined as unknown as Listener,
    held: new Map(),
    served: 0,
    holding: (text) => (h.held.has(text) ? Promise.resolve() : new Promise((r) => waiting.set(text, r))),
    warnings: [],
  };
  h.listener = new Listener('127.0.0.1', (wire) => {
    h.served++;
    const text = wire.toString('latin1');
    if (!text.startsWith('hold:')) return answer(wire);
    return new Promise<Buffer>((resolve) => {
      h.held.set(text, () => resolve(Buffer.from(wire)));
      waiting.get(text)?.();
    });
  }, { ...DEFAULT_LIMITS, ...limits }, (key, message) => h.warnings.push(`${key}: ${message}`));
  await h.listener.listen(0);
  return h;
}

function frame(text: string): Buffer {
  const body = Buffer.from(text, 'latin1');
  const f = Buffer.alloc(2 + body.length);
  f.writeUInt16BE(body.length, 0);
  body.copy(f, 2);
  return f;
}

/** A client connection that collects answered frames as text. */
interface Client {
  sock: net.Socket;
  answers: string[];
  /** Resolves with the answers once `n` have arrived. */
  answered(n: number): Promise<string[]>;
  closed: Promise<void>;
}

function connect(port: number, opts: { read?: boolean } = {}): Promise<Client> {
  return new Promise((resolve, reject) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    const answers: string[] = [];
    const wanted: { n: number; resolve: (a: string[]) => void }[] = [];
    let buf = Buffer.alloc(0);
    const closed = new Promise<void>((r) => sock.once('close', () => r()));
    sock.on('error', () => {}); // a reset by the server is what some tests expect; 'close' follows
    if (opts.read !== false) {
      sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          answers.push(buf.subarray(2, 2 + buf.readUInt16BE(0)).toString('latin1'));
          buf = buf.subarray(2 + buf.readUInt16BE(0));
        }
        for (const w of wanted.filter((x) => answers.length >= x.n)) w.resolve(answers.slice());
      });
    }
    const client: Client = {
      sock, answers, closed,
      answered: (n) => (answers.length >= n ? Promise.resolve(answers.slice()) : new Promise((r) => wanted.push({ n, resolve: r }))),
    };
    sock.once('connect', () => resolve(client));
    sock.once('error', reject);
  });
}

/** Connects and waits for one answer, so the listener has surely registered the connection. */
async function connectAdmitted(port: number, name: string): Promise<Client> {
  const c = await connect(port);
  c.sock.write(frame(`echo:${name}`));
  await c.answered(1);
  return c;
}

describe('Listener limits', function () {
  this.timeout(30_000);
  const open: Harness[] = [];
  const start = async (limits: Partial<ListenerLimits>, answer?: (wire: Buffer) => Buffer): Promise<Harness> => {
    const h = await startListener(limits, answer);
    open.push(h);
    return h;
  };
  afterEach(async () => {
    for (const h of open.splice(0)) {
      for (const release of h.held.values()) release();
      await h.listener.close();
    }
  });

  describe('unsent reply bytes', () => {
    const REPLY = Buffer.alloc(16_000, 0x61); // 16 kB per answer: the kernel's socket buffers fill after a few hundred
    const BOUND = 32_768;

    it('stops reading from a client that never reads, keeps its buffered bytes bounded, and closes it after tcpDrainMs', async () => {
      const h = await start({ maxTcpUnsentBytes: BOUND, tcpDrainMs: 300, tcpIdleMs: 20_000 }, () => REPLY);
      let maxUnsent = 0;
      const handler = h.listener.serve.bind(h.listener);
      h.listener.serve = (wire, client) => {
        for (const c of h.listener.connections) maxUnsent = Math.max(maxUnsent, c.socket.writableLength);
        return handler(wire, client);
      };
      const QUERIES = 20_000; // unbounded, their answers would be 20,000 × 16 kB = 320 MB in the server
      const rss0 = process.memoryUsage().rss;
      const accepted = new Promise<net.Socket>((resolve) => h.listener.tcp!.once('connection', resolve));
      const c = await connect(h.listener.port, { read: false });
      const server = await accepted;
      const t0 = performance.now();
      c.sock.write(Buffer.concat(Array.from({ length: QUERIES }, (_, i) => frame(`q${i}`))));
      // The server's side: a client that reads nothing would not even notice the reset.
      await new Promise((r) => server.once('close', r));
      const closedAfter = performance.now() - t0;
      const grew = process.memoryUsage().rss - rss0;
      // Userland holds at most the bound plus the answer that crossed it; the rest waits in the kernel's
      // socket buffers (a few MB on loopback), and then the client's queries stay unread.
      expect(maxUnsent).to.be.at.most(BOUND + REPLY.length + 2);
      expect(h.served).to.be.below(QUERIES / 4);
      expect(closedAfter).to.be.below(5_000);
      // What may have grown: the answers served (each a 16 kB frame, garbage once the kernel took it, and
      // not necessarily collected yet) plus 32 MiB for the heap's own growth. Here about 250 answers, so
      // under 36 MiB, where an unbounded server would hold 320 MB.
      expect(grew).to.be.below(h.served * (REPLY.length + 2) + 32 * 1024 * 1024);
      expect(h.listener.connections.size).to.equal(0);
      c.sock.destroy();
    });

    // A bound under the socket's default highWaterMark (16 KiB) too: 'drain' must still come.
    for (const bound of [BOUND, 1000]) it(`pauses, not drops: a client that starts reading late gets every answer (bound ${bound})`, async () => {
      const h = await start({ maxTcpUnsentBytes: bound, tcpDrainMs: 10_000 }, () => REPLY);
      const QUERIES = 2_000; // 32 MB of answers: more than the kernel's buffers, so the server must pause
      // The listener's own 'connection' handler runs first: by this one, the connection is registered.
      const accepted = new Promise<net.Socket>((resolve) => h.listener.tcp!.once('connection', resolve));
      const c = await connect(h.listener.port, { read: false });
      const server = await accepted;
      const paused = new Promise((r) => server.once('pause', r));
      c.sock.write(Buffer.concat(Array.from({ length: QUERIES }, (_, i) => frame(`q${i}`))));
      await paused;
      expect(h.served).to.be.below(QUERIES);
      let got = 0;
      let buf = Buffer.alloc(0);
      const all = new Promise<void>((resolve) => c.sock.on('data', (chunk: Buffer) => {
        buf = Buffer.concat([buf, chunk]);
        while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
          buf = buf.subarray(2 + buf.readUInt16BE(0));
          if (++got === QUERIES) resolve();
        }
      }));
      await all;
      expect(h.served).to.equal(QUERIES);
      expect(c.sock.destroyed).to.equal(false);
      c.sock.destroy();
    });
  });

  describe('connection pressure', () => {
    it('closes the oldest idle connection to admit a new one', async () => {
      const h = await start({ maxTcpConnections: 3 });
      const [a, b, c] = [await connectAdmitted(h.listener.port, 'a'), await connectAdmitted(h.listener.port, 'b'), await connectAdmitted(h.listener.port, 'c')];
      const d = await connectAdmitted(h.listener.port, 'd');
      await a!.closed;
      expect([b!.sock.destroyed, c!.sock.destroyed, d.sock.destroyed]).to.deep.equal([false, false, false]);
      expect(h.listener.connections.size).to.equal(3);
    });

    it('passes over busy connections: the oldest one with no query in flight is closed', async () => {
      const h = await start({ maxTcpConnections: 2 });
      const busy = await connectAdmitted(h.listener.port, 'busy');
      const idle = await connectAdmitted(h.listener.port, 'idle');
      busy.sock.write(frame('hold:busy'));
      await h.holding('hold:busy');
      const late = await connectAdmitted(h.listener.port, 'late');
      await idle.closed;
      h.held.get('hold:busy')!();
      expect(await busy.answered(2)).to.deep.equal(['echo:busy', 'hold:busy']);
      expect(late.sock.destroyed).to.equal(false);
    });

    it('refuses a new connection only when every one is answering a query, and admits again once one is idle', async () => {
      const h = await start({ maxTcpConnections: 2 });
      const clients = [await connectAdmitted(h.listener.port, 'x'), await connectAdmitted(h.listener.port, 'y')];
      clients.forEach((c, i) => c.sock.write(frame(`hold:${i}`)));
      await Promise.all(clients.map((_, i) => h.holding(`hold:${i}`)));
      const refused = await connect(h.listener.port);
      refused.sock.write(frame('echo:refused'));
      await refused.closed;
      expect(refused.answers).to.deep.equal([]);
      h.held.get('hold:0')!();
      expect(await clients[0]!.answered(2)).to.deep.equal(['echo:x', 'hold:0']);
      const admitted = await connectAdmitted(h.listener.port, 'admitted');
      await clients[0]!.closed; // idle now, and the oldest idle
      expect(clients[1]!.sock.destroyed).to.equal(false);
      expect(admitted.answers).to.deep.equal(['echo:admitted']);
    });
  });

  describe('UDP socket buffers', () => {
    const rmemMax = Number(fs.readFileSync('/proc/sys/net/core/rmem_max', 'utf8'));

    it('sets the receive and send buffers it is asked for (or warns that the kernel capped them)', async () => {
      const want = 1024 * 1024;
      const h = await start({ udpRecvBufferBytes: want, udpSendBufferBytes: 512 * 1024 });
      const got = h.listener.udp!.getRecvBufferSize();
      if (rmemMax >= want) {
        expect(got).to.be.at.least(want);
        expect(h.listener.udp!.getSendBufferSize()).to.be.at.least(512 * 1024);
        expect(h.warnings).to.deep.equal([]);
      } else {
        expect(h.warnings.join()).to.include('net.core.rmem_max');
      }
    });

    it('warns, naming the sysctl to raise, when the kernel caps the receive buffer', async () => {
      const want = Math.min(2 ** 31 - 1, rmemMax * 4);
      const h = await start({ udpRecvBufferBytes: want });
      expect(h.listener.udp!.getRecvBufferSize()).to.be.below(want);
      expect(h.warnings).to.have.length(1);
      expect(h.warnings[0]).to.match(/^udp-buffers: UDP receive buffer is .* of the .* asked \(raise net\.core\.rmem_max: sysctl -w net\.core\.rmem_max=\d+\)/);
    });

    it('keeps the kernel default when asked for 0', async () => {
      const h = await start({ udpRecvBufferBytes: 0, udpSendBufferBytes: 0 });
      const dflt = Number(fs.readFileSync('/proc/sys/net/core/rmem_default', 'utf8'));
      expect(h.listener.udp!.getRecvBufferSize()).to.equal(dflt);
      expect(h.warnings).to.deep.equal([]);
    });
  });
});

describe('Listener socket sharing', () => {
  it('is none outside a cluster worker', () => {
    expect(new Listener('127.0.0.1', () => undefined).sharing).to.equal('none');
  });

  // What a worker does with 'reusePort': its own sockets on a port another holds too; without it the bind fails.
  const rows: { sharing: 'reusePort' | 'none'; secondBinds: boolean }[] = [
    { sharing: 'reusePort', secondBinds: true },
    { sharing: 'none', secondBinds: false },
  ];
  for (const row of rows) {
    it(`${row.sharing}: a second listener on the same port ${row.secondBinds ? 'binds, and both answer' : 'fails with EADDRINUSE'}`, async () => {
      const served = [0, 0];
      const make = (i: number) => {
        const l = new Listener('127.0.0.1', (wire) => {
          served[i]!++;
          return Buffer.from(wire);
        });
        l.sharing = row.sharing;
        return l;
      };
      const first = make(0);
      const second = make(1);
      const free = new Listener('127.0.0.1', () => undefined);
      await free.listen(0);
      const port = free.port;
      await free.close();
      await first.listen(port);
      try {
        if (!row.secondBinds) {
          const err = await second.listen(port).then(() => undefined, (e: NodeJS.ErrnoException) => e);
          expect(err?.code).to.equal('EADDRINUSE');
          return;
        }
        await second.listen(port);
        expect(second.port).to.equal(port);
        // The kernel picks a socket per client address and port: many clients reach both.
        const dgram = await import('node:dgram');
        for (let c = 0; c < 32; c++) {
          const s = dgram.createSocket('udp4');
          await new Promise<void>((resolve) => {
            s.once('message', () => resolve());
            s.send(Buffer.alloc(12), port, '127.0.0.1');
          });
          s.close();
        }
        expect(served[0]! + served[1]!).to.equal(32);
        expect(served[0]).to.be.greaterThan(0);
        expect(served[1]).to.be.greaterThan(0);
      } finally {
        await first.close();
        await second.close();
      }
    });
  }
});

describe('Listener address', () => {
  it('must be an IP literal (the UDP socket resolves nothing)', () => {
    expect(() => new Listener('localhost', () => undefined)).to.throw("listen address 'localhost' is not an IP address");
  });
});

describe('parseLimit', () => {
  const rows: { text: string; want?: Partial<ListenerLimits>; error?: RegExp }[] = [
    { text: 'tcpFrameMs=2000', want: { tcpFrameMs: 2000 } },
    { text: 'udpRecvBufferBytes=0', want: { udpRecvBufferBytes: 0 } },
    { text: 'tcpFrameMs=2s', error: /not NAME=NUMBER/ },
    { text: 'tcpFrame=2000', error: /NAME one of tcpIdleMs, tcpFrameMs/ },
    { text: 'toString=1', error: /not NAME=NUMBER/ },
    { text: 'maxTcpConnections', error: /not NAME=NUMBER/ },
  ];
  for (const row of rows) {
    it(row.text, () => {
      if (row.want) expect(parseLimit(row.text)).to.deep.equal(row.want);
      else expect(() => parseLimit(row.text)).to.throw(row.error!);
    });
  }
});
