// forward against a hostile upstream: forged replies while it waits, malformed replies, and 0x20. The
// upstreams are a fake on 127.0.0.1 that the test drives (test/fixtures/hostile-upstream.ts) and Debian's
// dnsmasq; cache runs in front, so a poisoned answer would also show up as a cached one.
import { expect } from 'chai';
import { randomInt } from 'node:crypto';
import { decodeMessage, makeQuery, messageOf, Rcode, type Reply } from '../../core/message.js';
import { DnsError, type Next } from '../../core/plugin.js';
import { makeRequest, rawExchange, startServer, stubNext } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { answerBytes, questionBytes, startHostileUpstream, type SeenQuery } from '../../test/fixtures/hostile-upstream.js';
import { startDnsmasq, type Dnsmasq } from '../../test/fixtures/dnsmasq.js';
import { setup as setupCache } from '../cache/setup.js';
import { directiveOf, testEnv, type TestEnv } from '../pkg/test-env.js';
import type { Forward } from './forward.js';
import { parse, setup } from './setup.js';

/** cache 30 in front of a forward built from `text`, called as the server's chain would. */
function cacheAndForward(text: string) {
  const env = testEnv({ plugin: 'forward' });
  const forward = setup(parse(directiveOf(text), { zones: [''], configDir: '.' }), env);
  const cache = setupCache({ ttl: 30 }, testEnv({ plugin: 'cache' }));
  const ask = async (name: string): Promise<{ data: string[]; rcode: number }> => {
    const req = makeRequest(name);
    const next: Next = () => forward.serve(req, stubNext(req));
    try {
      const m = messageOf((await cache.serve(req, next)) as Reply);
      return { data: m.answer.map((r) => String(r.data)), rcode: m.rcode };
    } catch (err) {
      if (err instanceof DnsError) return { data: [], rcode: err.rcode };
      throw err;
    }
  };
  return { env, forward, ask };
}

async function metric(env: TestEnv, name: string): Promise<number> {
  const m = env.metrics.registry.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((n, v) => n + v.value, 0) : 0;
}

/** The name with the case of its first letter flipped. */
function flipOne(name: string): string {
  const i = name.search(/[a-z]/i);
  const c = name[i]!;
  return name.slice(0, i) + (c === c.toLowerCase() ? c.toUpperCase() : c.toLowerCase()) + name.slice(i + 1);
}

const WRONG_IDS = 64;
/** Forged replies sent per query (besides one to every port seen so far); each one reaches forward's socket. */
const FORGED_PER_QUERY = WRONG_IDS + 5;

describe('forward under forged replies (cache in front)', function () {
  this.timeout(20_000);
  let forwards: Forward[] = [];
  afterEach(() => {
    for (const f of forwards) f.close();
    forwards = [];
  });

  /**
   * The upstream answers 10.9.9.9 after 100 ms; before that it floods the source port it saw with forged
   * 6.6.6.6 replies: wrong IDs, and the right ID with the name lower-cased, one letter flipped, another
   * type, another name, QR clear, and from another port; plus the lower-case forgery to every port seen.
   */
  async function floodingUpstream() {
    const ports = new Set<number>();
    return startHostileUpstream((q: SeenQuery, send) => {
      ports.add(q.port);
      const forged = (over: Parameters<typeof answerBytes>[2] = {}) => answerBytes(q, '6.6.6.6', over);
      for (let i = 0; i < WRONG_IDS; i++) send(forged({ id: (q.id + 1 + randomInt(65535)) & 0xffff }));
      send(forged({ question: questionBytes(q.name.toLowerCase(), q.qtype) }));
      send(forged({ question: questionBytes(flipOne(q.name), q.qtype) }));
      send(forged({ question: questionBytes(q.name, 28) }));
      send(forged({ question: questionBytes(`other.${q.name}`, q.qtype) }));
      send(forged({ flags: 0x0180 }));
      send(forged(), { fromOtherPort: true });
      setTimeout(() => send(answerBytes(q, '10.9.9.9')), 100);
    });
  }

  it('serves and caches only the real answer: 0 of 30 poisoned while ~2,000 forged replies arrive', async () => {
    const up = await floodingUpstream();
    try {
      const { env, forward, ask } = cacheAndForward(`forward . 127.0.0.1:${up.port}`);
      forwards.push(forward);
      const names = Array.from({ length: 30 }, (_, i) => `victim${i}.poison.example.test`);
      const first = await Promise.all(names.map(ask));
      const cached = await Promise.all(names.map(ask));
      expect(up.seen).to.have.length(names.length); // the second round came from the cache
      const poisoned = [...first, ...cached].filter((a) => a.data.join() !== '10.9.9.9');
      expect(poisoned).to.deep.equal([]);
      // Every forgery reached the socket and was dropped (the one from another port never gets past the kernel).
      expect(await metric(env, 'coredns_forward_dropped_replies_total')).to.be.at.least(0.95 * names.length * (FORGED_PER_QUERY - 1));
    } finally {
      up.close();
    }
  });

  it('control: with no_case_randomization the lower-case forgery with the right ID is taken (16 bits of ID alone do not hold)', async () => {
    const up = await floodingUpstream();
    try {
      const { forward, ask } = cacheAndForward(`forward . 127.0.0.1:${up.port} {\n no_case_randomization\n}`);
      forwards.push(forward);
      const answers = await Promise.all(['a.poison.example.test', 'b.poison.example.test'].map(ask));
      expect(answers.map((a) => a.data.join())).to.deep.equal(['6.6.6.6', '6.6.6.6']);
    } finally {
      up.close();
    }
  });
});

describe('forward under malformed replies (cache in front, then dnsmasq)', function () {
  this.timeout(30_000);
  let dnsmasq: Dnsmasq;
  before(async () => {
    dnsmasq = await startDnsmasq({ args: ['--address=/example.test/10.1.2.3', '--local-ttl=300'], probe: 'up.example.test' });
  });
  after(async () => {
    await dnsmasq?.stop();
  });

  /** The good 6.6.6.6 reply to `q` (the answer record starts at q.qend), then mangled. */
  type Mangle = (good: Buffer, q: SeenQuery) => Buffer;
  const rows: { name: string; mangle: Mangle; malformed: boolean }[] = [
    { name: 'a compression-pointer loop', malformed: true, mangle: (g, q) => (g.writeUInt16BE(0xc000 | q.qend, q.qend), g) },
    { name: 'a pointer forwards', malformed: true, mangle: (g, q) => (g.writeUInt16BE(0xc000 | (q.qend + 4), q.qend), g) },
    { name: 'a count saying one more record than there is', malformed: true, mangle: (g) => (g.writeUInt16BE(2, 6), g) },
    { name: 'a count saying no answer while one follows', malformed: true, mangle: (g) => (g.writeUInt16BE(0, 6), g) },
    { name: 'a truncated record', malformed: true, mangle: (g) => g.subarray(0, g.length - 2) },
    { name: 'trailing garbage', malformed: true, mangle: (g) => Buffer.concat([g, Buffer.from([0, 0, 0])]) },
    { name: 'an A record of 5 bytes', malformed: true, mangle: (g) => (g.writeUInt16BE(5, g.length - 6), Buffer.concat([g, Buffer.from([1])])) },
    { name: 'a label of an unknown type', malformed: true, mangle: (g, q) => (g.writeUInt16BE(0x4161, q.qend), g) },
    // Not ours at all: dropped, and the try ends by its 2 s read timeout.
    { name: 'the wrong question', malformed: false, mangle: (_g, q) => answerBytes(q, '6.6.6.6', { question: questionBytes(`evil.${q.name}`, q.qtype) }) },
  ];

  it('passes none on and caches none: each is a failed try, the next upstream answers, and it is counted', async function () {
    const byName = new Map<string, Mangle>();
    const up = await startHostileUpstream((q, send) => {
      const mangle = byName.get(q.name.toLowerCase());
      if (mangle) send(mangle(answerBytes(q, '6.6.6.6'), q));
    });
    const { env, forward, ask } = cacheAndForward(`forward . 127.0.0.1:${up.port} 127.0.0.1:${dnsmasq.port} {\n policy sequential\n max_fails 0\n}`);
    try {
      for (const [i, row] of rows.entries()) {
        const name = `m${i}.example.test`;
        byName.set(name, row.mangle);
        const before = await metric(env, 'coredns_forward_malformed_replies_total');
        const seen = up.seen.length;
        expect(await ask(name), row.name).to.deep.equal({ data: ['10.1.2.3'], rcode: Rcode.NOERROR });
        expect(up.seen.length, `${row.name}: the hostile upstream was tried first`).to.equal(seen + 1);
        expect(await metric(env, 'coredns_forward_malformed_replies_total') - before, row.name).to.equal(row.malformed ? 1 : 0);
        expect(await ask(name), `${row.name}, from the cache`).to.deep.equal({ data: ['10.1.2.3'], rcode: Rcode.NOERROR });
        expect(up.seen.length).to.equal(seen + 1);
      }
      expect(env.logger.lines.some((l) => /\[WARNING\] plugin\/forward: .* sent a malformed reply: .*pointer/.test(l))).to.equal(true);
    } finally {
      forward.close();
      up.close();
    }
  });

  it('answers SERVFAIL when every upstream sends malformed replies, and caches nothing', async () => {
    const up = await startHostileUpstream((q, send) => send(Buffer.concat([answerBytes(q, '6.6.6.6'), Buffer.from([9])])));
    const { env, forward, ask } = cacheAndForward(`forward . 127.0.0.1:${up.port}`);
    try {
      expect(await ask('all.example.test')).to.deep.equal({ data: [], rcode: Rcode.SERVFAIL });
      expect(await ask('all.example.test')).to.deep.equal({ data: [], rcode: Rcode.SERVFAIL });
      const tries = up.seen.filter((q) => q.name.toLowerCase() === 'all.example.test').length;
      expect(tries, 'each query asked again (two tries each): nothing was cached').to.equal(4);
      expect(await metric(env, 'coredns_forward_malformed_replies_total')).to.equal(4);
    } finally {
      forward.close();
      up.close();
    }
  });
});

describe('forward: 0x20 case randomisation (real server)', function () {
  this.timeout(20_000);
  const clientNames = Array.from({ length: 200 }, (_, i) => `Name${i}.Example.Test`);

  async function askAll(port: number, names: readonly string[]) {
    const out: { name: string; question: string; data: string }[] = [];
    for (let i = 0; i < names.length; i += 50) {
      out.push(...(await Promise.all(names.slice(i, i + 50).map(async (name) => {
        const wire = await rawExchange('127.0.0.1', port, encodeMessage(makeQuery(name)), 'udp', 3000);
        const m = decodeMessage(wire!);
        return { name, question: m.question[0]!.name, data: String(m.answer[0]?.data) };
      }))));
    }
    return out;
  }

  it('the upstream sees each letter in a random case; the client gets its own case back', async () => {
    const up = await startHostileUpstream((q, send) => send(answerBytes(q, '10.9.9.9')));
    const server = await startServer(`. {\n forward . 127.0.0.1:${up.port}\n}\n`);
    try {
      const answers = await askAll(server.port, clientNames);
      expect(answers.filter((a) => a.question !== a.name || a.data !== '10.9.9.9')).to.deep.equal([]);
      const sent = up.seen.map((q) => q.name);
      expect(sent.map((n) => n.toLowerCase()).sort()).to.deep.equal(clientNames.map((n) => n.toLowerCase()).sort());
      // 13 letters or more a name: one sent as the client wrote it has odds of 2^-13.
      const unchanged = sent.filter((n) => clientNames.includes(n)).length;
      expect(unchanged).to.be.at.most(2);
      const letters = sent.join('').replace(/[^a-z]/gi, '');
      const upper = letters.replace(/[^A-Z]/g, '').length / letters.length;
      expect(upper).to.be.within(0.45, 0.55); // ~2,800 letters: 0.5 ± 0.05 is more than 5 sigma
    } finally {
      await server.close();
      up.close();
    }
  });

  it('with no_case_randomization the upstream sees the name exactly as the client wrote it', async () => {
    const up = await startHostileUpstream((q, send) => send(answerBytes(q, '10.9.9.9')));
    const server = await startServer(`. {\n forward . 127.0.0.1:${up.port} {\n  no_case_randomization\n }\n}\n`);
    try {
      const answers = await askAll(server.port, clientNames.slice(0, 50));
      expect(answers.filter((a) => a.question !== a.name || a.data !== '10.9.9.9')).to.deep.equal([]);
      expect(up.seen.map((q) => q.name).sort()).to.deep.equal(clientNames.slice(0, 50).sort());
    } finally {
      await server.close();
      up.close();
    }
  });

  it('works with dnsmasq, which echoes the case: every answer arrives, cached ones in the asking client\'s case', async () => {
    const dnsmasq = await startDnsmasq({ args: ['--address=/example.test/10.1.2.3'], probe: 'up.example.test' });
    const server = await startServer(`. {\n cache 30\n forward . 127.0.0.1:${dnsmasq.port}\n}\n`);
    try {
      const names = clientNames.slice(0, 50);
      const t0 = performance.now();
      const misses = await askAll(server.port, names);
      expect(performance.now() - t0, 'no try waited for a timeout').to.be.below(1500);
      expect(misses.filter((a) => a.question !== a.name || a.data !== '10.1.2.3')).to.deep.equal([]);
      const otherCase = names.map((n) => n.toUpperCase());
      const hits = await askAll(server.port, otherCase);
      expect(hits.filter((a) => a.question !== a.name || a.data !== '10.1.2.3')).to.deep.equal([]);
    } finally {
      await server.close();
      await dnsmasq.stop();
    }
  });
});
