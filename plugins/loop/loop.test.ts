import { expect } from 'chai';
import dgram from 'node:dgram';
import { ConfigError } from '../../core/config/errors.js';
import { decodeMessage, makeReply, Rcode, type Reply } from '../../core/message.js';
import type { Next } from '../../core/plugin.js';
import { makeRequest, stubNext } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { directiveOf, testEnv } from '../pkg/test-env.js';
import { Loop } from './loop.js';
import { probeName } from './probe.js';
import { parse, setup } from './setup.js';

describe('loop parse', () => {
  it('takes no arguments and no block', () => {
    expect(parse(directiveOf('loop'))).to.deep.equal({});
    expect(() => parse(directiveOf('loop 5s'))).to.throw(ConfigError, /Corefile:2:6: plugin\/loop: wrong argument count: want 0, got 1/);
    expect(() => parse(directiveOf('loop {\n max 3\n}'))).to.throw(ConfigError, /loop takes no block/);
  });
});

describe('loop probe name', () => {
  it('is two random decimal labels under the zone', () => {
    expect(probeName('example.org')).to.match(/^\d{1,19}\.\d{1,19}\.example\.org$/);
    expect(probeName('')).to.match(/^\d{1,19}\.\d{1,19}$/);
    expect(probeName('')).not.to.equal(probeName(''));
  });
});

describe('loop handler', () => {
  function make(zone = '') {
    const fatals: string[] = [];
    const loop = new Loop(zone, probeName(zone), () => ':1053', (m) => fatals.push(m));
    return { loop, fatals };
  }

  it('detects a forward that comes back to us: fatal with CoreDNS wording, and breaks the loop', async () => {
    const { loop, fatals } = make();
    const req = makeRequest(`${loop.qname}.`, 'HINFO', { clientPort: 55953 });
    let hops = 0;
    // A forward to ourselves: every hop runs the query through the loop handler again.
    const forwardToSelf: Next = () => {
      hops++;
      if (hops > 50) throw new Error('the loop was not broken');
      return loop.serve(req, forwardToSelf);
    };
    const reply = (await loop.serve(req, forwardToSelf)) as Reply & { rcode: number };
    expect(reply.rcode).to.equal(Rcode.SERVFAIL);
    expect(hops).to.equal(2);
    expect(fatals).to.deep.equal([
      `Loop (127.0.0.1:55953 -> :1053) detected for zone ".", see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${loop.qname}."`,
    ]);
  });

  it('names the zone with its trailing dot', () => {
    const { loop } = make('cluster.local');
    const req = makeRequest(`${loop.qname}.`, 'HINFO', { clientAddress: '::1', clientPort: 5 });
    expect(loop.message(req)).to.match(/^Loop \(\[::1\]:5 -> :1053\) detected for zone "cluster\.local\."/);
  });

  it('passes everything else on without counting', async () => {
    const { loop, fatals } = make();
    const cases = [
      makeRequest(`${loop.qname}.`, 'A'),
      makeRequest('1.2.example.org', 'HINFO'),
      makeRequest('example.org', 'A'),
    ];
    for (const req of cases) {
      for (let i = 0; i < 4; i++) {
        const next = stubNext(req, makeReply(req.query));
        await loop.serve(req, next);
        expect(next.calls).to.equal(1);
      }
    }
    expect(loop.seen).to.equal(0);
    expect(fatals).to.deep.equal([]);
  });

  it('is a pass-through once the probe phase is over', async () => {
    const { loop, fatals } = make();
    loop.disable();
    const req = makeRequest(`${loop.qname}.`, 'HINFO');
    for (let i = 0; i < 5; i++) await loop.serve(req, stubNext(req));
    expect(fatals).to.deep.equal([]);
  });
});

describe('loop probing', () => {
  const fast = { deadlineMs: 3000, retryMs: 30, exchangeTimeoutMs: 100, settleMs: 50 };
  const sockets: dgram.Socket[] = [];
  afterEach(() => {
    for (const s of sockets.splice(0)) s.close();
  });

  /** A UDP DNS server on 127.0.0.1 that answers (or, with answer=false, only records) what it gets. */
  async function responder(answer: boolean) {
    const seen: string[] = [];
    const sock = dgram.createSocket('udp4');
    sockets.push(sock);
    sock.on('message', (msg, rinfo) => {
      const q = decodeMessage(msg);
      seen.push(`${q.question[0]!.type} ${q.question[0]!.name}`);
      if (answer) sock.send(encodeMessage(makeReply(q)), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return { port: sock.address().port, seen };
  }

  async function until(cond: () => boolean, ms = 3000): Promise<void> {
    for (let waited = 0; waited < ms && !cond(); waited += 10) await new Promise((r) => setTimeout(r, 10));
  }

  it('sends HINFO <probe> to its own listener on startup, then turns itself off', async () => {
    const upstream = await responder(true);
    const env = testEnv({ plugin: 'loop', zones: ['example.org'], listen: [{ address: '0.0.0.0', port: upstream.port, transport: 'udp' }] });
    const loop = setup({}, env, fast) as Loop;
    await env.startup();
    await until(() => loop.disabled);
    expect(upstream.seen).to.deep.equal([`HINFO ${loop.qname}`]);
    expect(loop.disabled).to.equal(true);
    loop.close();
  });

  it('retries while nothing answers, and stops on close', async () => {
    const silent = await responder(false);
    const env = testEnv({ plugin: 'loop', listen: [{ address: '127.0.0.1', port: silent.port, transport: 'udp' }] });
    const loop = setup({}, env, fast) as Loop;
    await env.startup();
    await until(() => silent.seen.length >= 2);
    expect(silent.seen.length).to.be.at.least(2);
    loop.close();
    const count = silent.seen.length;
    await new Promise((r) => setTimeout(r, 300));
    expect(silent.seen.length, 'no probe after close').to.be.at.most(count + 1);
    expect(loop.disabled).to.equal(true);
  });
});
