import { expect } from 'chai';
import dgram from 'node:dgram';
import { UDP_DEFAULTS } from './udp-pool.js';
import net from 'node:net';
import { decodeMessage, isWireReply, makeReply, messageOf, Rcode, type Message, type Reply } from '../../core/message.js';
import { DnsError, type Next } from '../../core/plugin.js';
import { makeRequest, rr, stubNext, type TestRequestOptions } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { startDnsmasq, type Dnsmasq } from '../../test/fixtures/dnsmasq.js';
import { directiveOf, testEnv } from '../pkg/test-env.js';
import type { Forward } from './forward.js';
import { parse, setup } from './setup.js';

const BIG = ['a', 'b', 'c'].map((c) => c.repeat(250));
const dataArgs = (ip: string) => [
  `--address=/example.test/${ip}`, '--address=/nx.test/', '--local-ttl=300',
  `--txt-record=big.txt.test,${BIG.join(",")}`,
];

let open: Forward[] = [];
function forward(text: string) {
  const env = testEnv({ plugin: 'forward' });
  const f = setup(parse(directiveOf(text), { zones: [''], configDir: '.' }), env);
  open.push(f);
  return { f, env };
}

async function ask(f: Forward, name: string, type = 'A', opts: TestRequestOptions = {}, next?: Next): Promise<Message> {
  const req = makeRequest(name, type, opts);
  const reply: Reply = await f.serve(req, next ?? stubNext(req));
  return messageOf(reply);
}

async function metric(env: ReturnType<typeof testEnv>, name: string): Promise<number> {
  const m = env.metrics.registry.getSingleMetric(name);
  return m ? (await m.get()).values.reduce((n, v) => n + v.value, 0) : 0;
}

/** Polls `cond` every 20 ms, for at most `ms`. */
async function until(cond: () => Promise<boolean> | boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (Date.now() < end) {
    if (await cond()) return true;
    await new Promise((r) => setTimeout(r, 20));
  }
  return false;
}

describe('forward to dnsmasq', function () {
  this.timeout(30_000);
  let a: Dnsmasq;
  let b: Dnsmasq;
  before(async () => {
    [a, b] = await Promise.all([
      startDnsmasq({ args: dataArgs('10.1.2.3'), probe: 'up.example.test' }),
      startDnsmasq({ args: dataArgs('10.1.2.4'), probe: 'up.example.test' }),
    ]);
  });
  after(async () => {
    await Promise.all([a?.stop(), b?.stop()]);
  });
  afterEach(() => {
    for (const f of open) f.close();
    open = [];
  });

  it('forwards answers and NXDOMAIN, passing the upstream bytes through as a wire reply', async () => {
    const { f, env } = forward(`forward . 127.0.0.1:${a.port}`);
    const req = makeRequest('www.example.test');
    const reply = await f.serve(req, stubNext(req));
    expect(isWireReply(reply)).to.equal(true);
    const m = messageOf(reply);
    expect(m.answer[0]).to.include({ type: 'A', data: '10.1.2.3', ttl: 300 });
    expect((await ask(f, 'gone.nx.test')).rcode).to.equal(Rcode.NXDOMAIN);
    expect(await metric(env, 'coredns_proxy_request_duration_seconds')).to.be.greaterThan(0);
  });

  it('passes a truncated UDP answer through; the client retrying over TCP gets it whole', async () => {
    const { f } = forward(`forward . 127.0.0.1:${a.port}`);
    const udp = await ask(f, 'big.txt.test', 'TXT');
    expect(udp.tc).to.equal(true);
    expect(udp.answer).to.have.length(0);
    const tcp = await ask(f, 'big.txt.test', 'TXT', { transport: 'tcp' });
    expect(tcp.tc).to.equal(false);
    expect(tcp.answer[0]).to.deep.include({ type: 'TXT', data: BIG });
  });

  it('prefer_udp completes a truncated answer over TCP; force_tcp uses TCP for UDP clients', async () => {
    for (const prop of ['prefer_udp', 'force_tcp']) {
      const { f } = forward(`forward . 127.0.0.1:${a.port} {\n ${prop}\n}`);
      const m = await ask(f, 'big.txt.test', 'TXT');
      expect(m.tc, prop).to.equal(false);
      expect(m.answer[0], prop).to.deep.include({ data: BIG });
    }
  });

  it('pipelines many queries on reused TCP connections', async () => {
    const { f } = forward(`forward . 127.0.0.1:${a.port} {\n force_tcp\n}`);
    const names = Array.from({ length: 60 }, (_, i) => `n${i}.example.test`);
    const answers = await Promise.all(names.map((n) => ask(f, n)));
    expect(answers.map((m) => m.question[0]!.name.toLowerCase())).to.deep.equal(names);
    expect(answers.every((m) => m.answer[0]?.type === 'A')).to.equal(true);
  });

  it('does not forward except names, nor names outside FROM', async () => {
    const { f } = forward(`forward example.test 127.0.0.1:${a.port} {\n except private.example.test\n}`);
    const cases: [string, boolean][] = [['www.example.test', true], ['x.private.example.test', false], ['www.other.test', false]];
    for (const [name, forwarded] of cases) {
      const req = makeRequest(name);
      const next = stubNext(req, makeReply(req.query, { answer: [rr`${name}. 5 IN A 192.0.2.1`] }));
      const m = messageOf(await f.serve(req, next));
      expect(next.calls, name).to.equal(forwarded ? 0 : 1);
      expect(m.answer[0]!.data, name).to.equal(forwarded ? '10.1.2.3' : '192.0.2.1');
    }
  });

  it('fails over when an upstream dies, SERVFAILs within the deadline when all are down, and takes one back when it returns', async () => {
    const { f, env } = forward(`forward . 127.0.0.1:${a.port} 127.0.0.1:${b.port} {\n policy sequential\n health_check 100ms\n}`);
    expect((await ask(f, 'www.example.test')).answer[0]!.data).to.equal('10.1.2.3');
    await a.stop();
    for (let i = 0; i < 5; i++) expect((await ask(f, `f${i}.example.test`)).answer[0]!.data).to.equal('10.1.2.4');
    expect(await until(() => f.upstreams[0]!.down(2), 3000), 'a marked down by its health checks').to.equal(true);
    expect(await metric(env, 'coredns_proxy_healthcheck_failures_total')).to.be.greaterThan(2);
    await b.stop();
    const start = performance.now();
    let err: unknown;
    await ask(f, 'www.example.test').catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(DnsError);
    expect((err as DnsError).rcode).to.equal(Rcode.SERVFAIL);
    expect(performance.now() - start).to.be.below(5500);
    await a.start();
    await b.start();
    // Health checks bring a back: sequential policy then prefers it again.
    expect(await until(async () => !f.upstreams[0]!.down(2), 3000), 'a healthy again').to.equal(true);
    expect((await ask(f, 'back.example.test')).answer[0]!.data).to.equal('10.1.2.3');
  });
});

/** A fake upstream: calls `answer` for each query with a way to reply from its own or another socket. */
async function fakeUpstream(answer: (query: Message, reply: (wire: Uint8Array, from?: dgram.Socket) => void) => void) {
  const sock = dgram.createSocket('udp4');
  const other = dgram.createSocket('udp4');
  await Promise.all([new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r())), new Promise<void>((r) => other.bind(0, '127.0.0.1', () => r()))]);
  sock.on('message', (msg, rinfo) => {
    answer(decodeMessage(msg), (wire, from = sock) => from.send(wire, rinfo.port, rinfo.address));
  });
  return { port: sock.address().port, other, close: () => (sock.close(), other.close()) };
}

describe('forward against a hostile or silent upstream', function () {
  this.timeout(10_000);
  afterEach(() => {
    for (const f of open) f.close();
    open = [];
  });

  it('ignores replies with a wrong ID, a wrong question or from a wrong port, and counts them', async () => {
    const up = await fakeUpstream((q, reply) => {
      const good = makeReply(q, { answer: [rr`${q.question[0]!.name}. 60 IN A 10.9.9.9`] });
      const spoof = makeReply(q, { answer: [rr`${q.question[0]!.name}. 60 IN A 6.6.6.6`] });
      reply(encodeMessage({ ...spoof, id: (q.id + 1) & 0xffff }));
      reply(encodeMessage({ ...spoof, question: [{ ...q.question[0]!, name: 'other.example.test' }] }));
      reply(encodeMessage(spoof), up.other); // right ID and question, wrong source port
      setTimeout(() => reply(encodeMessage(good)), 50);
    });
    try {
      const { f, env } = forward(`forward . 127.0.0.1:${up.port}`);
      const m = await ask(f, 'Victim.Example.test');
      expect(m.answer.map((r) => r.data)).to.deep.equal(['10.9.9.9']);
      expect(await metric(env, 'coredns_forward_dropped_replies_total')).to.be.at.least(2);
    } finally {
      up.close();
    }
  });

  it('sends each query from a socket picked at random among UDP_DEFAULTS.sockets, each retired after UDP_DEFAULTS.uses queries, with a fresh ID', async () => {
    const seen: { port: number; id: number }[] = [];
    const sock = dgram.createSocket('udp4');
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    sock.on('message', (msg, rinfo) => {
      seen.push({ port: rinfo.port, id: msg.readUInt16BE(0) });
      sock.send(encodeMessage(makeReply(decodeMessage(msg), {})), rinfo.port, rinfo.address);
    });
    // Count sends per socket object: the kernel may hand a retired socket's port to a later one, so ports
    // alone cannot tell sockets apart.
    const sendsPerSocket = new Map<dgram.Socket, number>();
    const send = dgram.Socket.prototype.send;
    dgram.Socket.prototype.send = function (this: dgram.Socket, ...args: Parameters<typeof send>) {
      if (this !== sock) sendsPerSocket.set(this, (sendsPerSocket.get(this) ?? 0) + 1);
      return send.apply(this, args);
    } as typeof send;
    try {
      const { f } = forward(`forward . 127.0.0.1:${sock.address().port}`);
      const { sockets, uses } = UDP_DEFAULTS;
      const queries = 2 * sockets * uses;
      for (let i = 0; i < queries; i += 64) {
        await Promise.all(Array.from({ length: 64 }, (_, j) => ask(f, `p${i + j}.example.test`, 'A', { id: 7 })));
      }
      const ports = [...new Set(seen.map((s) => s.port))];
      // Every socket serves `uses` queries, so about 2 pools' worth of sockets and ports carried them.
      expect(ports.length).to.be.at.least(1.5 * sockets);
      expect(sendsPerSocket.size).to.be.at.least(1.5 * sockets);
      for (const sends of sendsPerSocket.values()) expect(sends).to.be.at.most(uses);
      expect([...sendsPerSocket.values()].reduce((a, b) => a + b)).to.equal(queries);
      // The kernel draws each port at random from the ephemeral range (28,232 ports by default), not in sequence.
      expect(Math.max(...ports) - Math.min(...ports)).to.be.above(10_000);
      // IDs come from the CSPRNG, not from the client: 16 bits over 8,192 queries repeat a little, never mostly.
      expect(new Set(seen.map((s) => s.id)).size).to.be.at.least(queries * 0.9);
      expect(seen.filter((s) => s.id === 7).length).to.be.below(5);
    } finally {
      dgram.Socket.prototype.send = send;
      sock.close();
    }
  });

  it('answers REFUSED at once past max_concurrent, and frees its sockets when queries are aborted', async () => {
    const up = await fakeUpstream(() => {}); // never answers
    try {
      const { f, env } = forward(`forward . 127.0.0.1:${up.port} {\n max_concurrent 2\n}`);
      const controllers = [new AbortController(), new AbortController()];
      const pending = controllers.map((c, i) => ask(f, `slow${i}.example.test`, 'A', { signal: c.signal }).then(() => 'answered', (e: Error) => e.message));
      let err: unknown;
      try {
        const req = makeRequest('third.example.test');
        f.serve(req, stubNext(req));
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(DnsError);
      expect((err as DnsError).rcode).to.equal(Rcode.REFUSED);
      expect(await metric(env, 'coredns_forward_max_concurrent_rejects_total')).to.equal(1);
      const t0 = performance.now();
      for (const c of controllers) c.abort(new Error('client went away'));
      expect(await Promise.all(pending)).to.deep.equal(['client went away', 'client went away']);
      expect(performance.now() - t0).to.be.below(500);
      // The two slots are free again: a new query is sent, not refused.
      const c3 = new AbortController();
      const third = ask(f, 'fourth.example.test', 'A', { signal: c3.signal }).catch((e: Error) => e);
      c3.abort(new Error('done'));
      expect(((await third) as Error).message).to.equal('done');
    } finally {
      up.close();
    }
  });

  it('close() ends queries in flight over UDP and TCP at once', async () => {
    const up = await fakeUpstream(() => {});
    const tcp = net.createServer(() => {});
    await new Promise<void>((r) => tcp.listen(up.port, '127.0.0.1', () => r()));
    try {
      const { f } = forward(`forward . 127.0.0.1:${up.port}`);
      const t0 = performance.now();
      const pending = [ask(f, 'u.example.test'), ask(f, 't.example.test', 'A', { transport: 'tcp' })].map((p) => p.then(() => 'answered', (e: Error) => e.name));
      await new Promise((r) => setTimeout(r, 20));
      f.close();
      expect(await Promise.all(pending)).to.deep.equal(['DnsError', 'DnsError']);
      expect(performance.now() - t0).to.be.below(500);
    } finally {
      up.close();
      tcp.close();
    }
  });

  it('SERVFAILs within the 5 s deadline when the upstream stays silent', async function () {
    this.timeout(10_000);
    const up = await fakeUpstream(() => {});
    try {
      const { f } = forward(`forward . 127.0.0.1:${up.port}`);
      const start = performance.now();
      const err = await ask(f, 'silent.example.test').catch((e: unknown) => e);
      const took = performance.now() - start;
      expect(err).to.be.instanceOf(DnsError);
      expect((err as DnsError).rcode).to.equal(Rcode.SERVFAIL);
      expect(took).to.be.within(3500, 5500);
    } finally {
      up.close();
    }
  });
});
