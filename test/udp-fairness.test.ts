// Per-client fairness over UDP (maxUdpInFlightPerClient): one client flooding queries that each take
// several slices of CPU must not delay another client's answers. The legitimate client asks over a real
// UDP socket on 127.0.0.1; the flood enters the same query path through inject() from another client
// address (tests use no address but 127.0.0.1, and the bound is per address).
import { expect } from 'chai';
import dgram from 'node:dgram';
import { definePlugin, expectArgs, makeQuery, makeReply } from '../core/index.js';
import { startServer, type TestServer } from '../core/testing.js';
import { encodeMessage } from '../core/wire.js';

const SLICES = 4;
const SLICE_MS = 0.5;

/** `busy`: names starting with "busy" cost SLICES slices of CPU, yielding between them; others are answered at once. */
const busy = definePlugin<Record<string, never>>({
  name: 'busy',
  schema: { type: 'object' },
  parse: (d) => (expectArgs(d, 'busy', 0), {}),
  setup: () => ({
    serve: (req) => {
      const reply = () => makeReply(req.query, { aa: true, answer: [{ name: req.qname, ttl: 5, type: 'A', data: '10.0.0.1' }] });
      if (!req.qname.startsWith('busy')) return reply();
      return (async () => {
        for (let i = 0; i < SLICES; i++) {
          const until = performance.now() + SLICE_MS;
          while (performance.now() < until) { /* CPU */ }
          await new Promise((r) => setImmediate(r));
        }
        return reply();
      })();
    },
  }),
});

const LEGIT_QUERIES = 100;
const FLOOD_PER_TURN = 10;

/** Latencies (ms) of LEGIT_QUERIES sequential UDP queries, while the flood runs. */
async function legitLatencies(port: number, count = LEGIT_QUERIES): Promise<number[]> {
  const sock = dgram.createSocket('udp4');
  await new Promise<void>((r) => sock.bind(0, '127.0.0.1', r));
  const out: number[] = [];
  try {
    for (let i = 0; i < count; i++) {
      const wire = encodeMessage(makeQuery('legit.test', 'A', { id: i }));
      const t0 = performance.now();
      await new Promise<void>((resolve) => {
        const timer = setTimeout(() => { sock.off('message', onMessage); out.push(Infinity); resolve(); }, 3000);
        const onMessage = (m: Buffer) => {
          if (m.readUInt16BE(0) !== i) return;
          clearTimeout(timer);
          sock.off('message', onMessage);
          out.push(performance.now() - t0);
          resolve();
        };
        sock.on('message', onMessage);
        sock.send(wire, port, '127.0.0.1');
      });
    }
  } finally {
    sock.close();
  }
  return out;
}

/** Injects busy queries from 10.9.9.9, FLOOD_PER_TURN per event-loop turn, until `stop` or `max`. */
function flood(t: TestServer, max: number, stop: () => boolean): Promise<{ sent: number; answered: number }> {
  return new Promise((resolve) => {
    let sent = 0;
    let answered = 0;
    const turn = () => {
      if (stop() || sent >= max) return resolve({ sent, answered });
      for (let i = 0; i < FLOOD_PER_TURN; i++, sent++) {
        const out = t.server.inject(encodeMessage(makeQuery(`busy${sent}.test`, 'A', { id: sent & 0xffff })), { address: '10.9.9.9', port: 40000 });
        if (out instanceof Promise) void out.then((w) => { if (w) answered++; });
      }
      setImmediate(turn);
    };
    turn();
  });
}

const p99 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.ceil(xs.length * 0.99) - 1]!;

describe('UDP per-client fairness (maxUdpInFlightPerClient)', function () {
  this.timeout(60_000);

  /** One run: the legitimate client's latencies while the flood runs, and what the flood got. */
  async function run(limit: number, max: number): Promise<{ p: number; sent: number; answered: number; logs: string[] }> {
    const t = await startServer('test {\n  busy\n}', { plugins: [busy], limits: { maxUdpInFlightPerClient: limit } });
    try {
      await legitLatencies(t.port, 20); // warm-up (the JIT), before the flood
      let done = false;
      const flooding = flood(t, max, () => done);
      const lat = await legitLatencies(t.port);
      done = true;
      const f = await flooding;
      const sorted = [...lat].sort((a, b) => a - b);
      console.log(`      limit ${limit}: legit p50 ${sorted[49]!.toFixed(1)} ms, p99 ${p99(lat).toFixed(1)} ms, max ${sorted.at(-1)!.toFixed(1)} ms; flood sent ${f.sent}, answered ${f.answered} meanwhile`);
      return { p: p99(lat), ...f, logs: t.logs };
    } finally {
      await t.close();
    }
  }

  it('a flood of slow queries from one client leaves another client p99 <= 50 ms', async () => {
    // The machine is shared: a stall of the whole process (another job's turn on the CPU) is not the
    // server's doing, so up to three runs are made; the flood's own backlog would fail all three.
    const MAX = 50_000;
    let best: Awaited<ReturnType<typeof run>> | undefined;
    for (let attempt = 0; attempt < 3 && (best === undefined || best.p > 50); attempt++) {
      const r = await run(4, MAX);
      if (best === undefined || r.p < best.p) best = r;
    }
    expect(best!.p).to.be.at.most(50);
    expect(best!.sent).to.be.lessThan(MAX); // flooding until the last legitimate answer
    expect(best!.answered).to.be.greaterThan(0); // the flooder is slowed, not shut out
    expect(best!.logs.some((l) => l.includes('maxUdpInFlightPerClient'))).to.equal(true);
  });

  it('without the bound, the same flood delays the other client past 50 ms (the test can fail)', async () => {
    expect((await run(1_000_000, 1500)).p).to.be.greaterThan(50);
  });
});
