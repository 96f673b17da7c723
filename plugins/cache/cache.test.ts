import { extendedErrors } from '../../core/edns.js';
import { expect } from 'chai';
import v8 from 'node:v8';
import vm from 'node:vm';
import { DnsError } from '../../core/plugin.js';
import { decodeMessage, isWireReply, makeReply, messageOf, Rcode, WireReply, type Message, type Reply } from '../../core/message.js';
import { makeRequest, rr, stubNext } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import type { Next, Request } from '../../core/plugin.js';
import { testEnv } from '../pkg/test-env.js';
import type { Cache } from './cache.js';
import { setup, type CacheOptions } from './setup.js';

const SOA = rr`example.org. 3600 IN SOA ns.example.org. admin.example.org. 1 7200 900 1209600 60`;

function makeCache(opts: CacheOptions = {}) {
  const clock = { t: 1_700_000_000_000 };
  const env = testEnv({ plugin: 'cache' });
  const cache = setup(opts, env, () => clock.t);
  return { cache, clock, env };
}

async function ask(cache: Cache, req: Request, next: Next): Promise<Message> {
  const reply: Reply = await cache.serve(req, next);
  return messageOf(reply);
}

async function metric(env: ReturnType<typeof testEnv>, name: string, labels: Record<string, string> = {}): Promise<number> {
  const m = env.metrics.registry.getSingleMetric(name);
  if (!m) return 0;
  const { values } = await m.get();
  return values.filter((v) => Object.entries(labels).every(([k, x]) => v.labels[k] === x)).reduce((n, v) => n + v.value, 0);
}

const answerA = (ttl: number) => (req: Request) => makeReply(req.query, { answer: [rr`${req.query.question[0]!.name}. ${ttl} IN A 10.1.2.3`] });

describe('cache handler', () => {
  it('answers a hit without calling next, TTL counting down across seconds, AA set', async () => {
    const { cache, clock } = makeCache();
    const req = makeRequest('www.example.org');
    const next = stubNext(req, answerA(300));
    const first = await ask(cache, req, next);
    expect(first.answer[0]!.ttl).to.equal(300);
    expect(first.aa).to.equal(false);
    clock.t += 1500;
    const hit = cache.serve(req, next);
    expect(hit).to.be.instanceOf(WireReply); // synchronous, from the stored bytes
    expect(messageOf(hit as Reply).answer[0]!.ttl).to.equal(299);
    expect(messageOf(hit as Reply).aa).to.equal(true);
    clock.t += 10_000;
    expect((await ask(cache, req, next)).answer[0]!.ttl).to.equal(289);
    expect(next.calls).to.equal(1);
  });

  it('clamps TTLs to [MINTTL, TTL] and writes one TTL on every record', async () => {
    const cases = [
      { opts: { ttl: 30 }, ttls: [300, 600], want: 30 },
      { opts: {}, ttls: [1, 100], want: 5 },
      { opts: { success: { capacity: 10, ttl: 50, minttl: 20 } }, ttls: [10, 40], want: 20 },
      { opts: {}, ttls: [100, 60], want: 60 },
    ];
    for (const c of cases) {
      const { cache } = makeCache(c.opts);
      const req = makeRequest('a.example.org');
      const next = stubNext(req, makeReply(req.query, { answer: c.ttls.map((t, i) => rr`a.example.org. ${t} IN A 10.0.0.${i + 1}`) }));
      const got = await ask(cache, req, next);
      expect(got.answer.map((r) => r.ttl), JSON.stringify(c)).to.deep.equal(c.ttls.map(() => c.want));
    }
  });

  it('keeps NXDOMAIN and NODATA for min(SOA TTL, SOA MINIMUM) (RFC 2308)', async () => {
    for (const [name, type, rcode] of [['gone.example.org', 'A', Rcode.NXDOMAIN], ['www.example.org', 'AAAA', Rcode.NOERROR]] as const) {
      const { cache, clock } = makeCache();
      const req = makeRequest(name, type);
      const next = stubNext(req, makeReply(req.query, { rcode, authority: [SOA] }));
      const first = await ask(cache, req, next);
      expect(first.authority[0]!.ttl).to.equal(60);
      clock.t += 59_000;
      const hit = await ask(cache, req, next);
      expect(hit.rcode).to.equal(rcode);
      expect(hit.authority[0]!.ttl).to.equal(1);
      expect(next.calls).to.equal(1);
      clock.t += 2000;
      await ask(cache, req, next);
      expect(next.calls, 'expired after the SOA minimum').to.equal(2);
    }
  });

  it('never caches truncated replies, negative answers without SOA, or other errors', async () => {
    const replies: ((req: Request) => Message)[] = [
      (req) => makeReply(req.query, { tc: true, answer: [rr`x.example.org. 300 IN A 10.0.0.1`] }),
      (req) => makeReply(req.query, { rcode: Rcode.NXDOMAIN }),
      (req) => makeReply(req.query, {}),
      (req) => makeReply(req.query, { rcode: Rcode.REFUSED }),
    ];
    for (const make of replies) {
      const { cache } = makeCache();
      const req = makeRequest('x.example.org');
      const next = stubNext(req, make);
      await ask(cache, req, next);
      await ask(cache, req, next);
      expect(next.calls).to.equal(2);
      expect(cache.success.size + cache.denial.size).to.equal(0);
    }
  });

  it('keeps SERVFAIL for `servfail` seconds (default 5), never with servfail 0', async () => {
    const { cache, clock } = makeCache();
    const req = makeRequest('broken.example.org');
    const next = stubNext(req, makeReply(req.query, { rcode: Rcode.SERVFAIL }));
    await ask(cache, req, next);
    clock.t += 4000;
    expect((await ask(cache, req, next)).rcode).to.equal(Rcode.SERVFAIL);
    expect(next.calls).to.equal(1);
    clock.t += 2000;
    await ask(cache, req, next);
    expect(next.calls).to.equal(2);

    const off = makeCache({ servfail: '0' });
    const next2 = stubNext(req, makeReply(req.query, { rcode: Rcode.SERVFAIL }));
    await ask(off.cache, req, next2);
    await ask(off.cache, req, next2);
    expect(next2.calls).to.equal(2);
  });

  it('keeps separate entries for the DO and CD bits, and shares one across qname case', async () => {
    const { cache } = makeCache();
    const variants = [
      makeRequest('Mixed.Example.org'),
      makeRequest('mixed.example.org', 'A', { do: true }),
      makeRequest('mixed.example.org', 'A', { cd: true }),
      makeRequest('mixed.example.org', 'A', { do: true, cd: true }),
    ];
    let calls = 0;
    for (const req of variants) {
      const next = stubNext(req, answerA(300));
      await ask(cache, req, next);
      await ask(cache, req, next);
      calls += next.calls;
    }
    expect(calls).to.equal(4);
    expect(cache.success.size).to.equal(4);
    const lower = makeRequest('MIXED.EXAMPLE.ORG');
    const next = stubNext(lower, answerA(300));
    await ask(cache, lower, next);
    expect(next.calls).to.equal(0);
  });

  it('passes names outside its zones through every time', async () => {
    const { cache } = makeCache({ zones: ['example.org'] });
    const req = makeRequest('www.example.net');
    const next = stubNext(req, answerA(300));
    await ask(cache, req, next);
    await ask(cache, req, next);
    expect(next.calls).to.equal(2);
  });

  it('`disable success|denial ZONES` keeps those names out of that cache only', async () => {
    const { cache } = makeCache({ disable: { success: ['example.org'] } });
    const pos = makeRequest('a.example.org');
    const nextPos = stubNext(pos, answerA(300));
    await ask(cache, pos, nextPos);
    await ask(cache, pos, nextPos);
    expect(nextPos.calls).to.equal(2);
    const neg = makeRequest('b.example.org');
    const nextNeg = stubNext(neg, makeReply(neg.query, { rcode: Rcode.NXDOMAIN, authority: [SOA] }));
    await ask(cache, neg, nextNeg);
    await ask(cache, neg, nextNeg);
    expect(nextNeg.calls).to.equal(1);
  });

  it('keepttl serves the stored TTL unchanged', async () => {
    const { cache, clock } = makeCache({ keepttl: true });
    const req = makeRequest('k.example.org');
    const next = stubNext(req, answerA(300));
    await ask(cache, req, next);
    clock.t += 100_000;
    expect((await ask(cache, req, next)).answer[0]!.ttl).to.equal(300);
  });

  it('stores a wire reply without its OPT and patches the TTLs of every section', async () => {
    const { cache, clock } = makeCache();
    const req = makeRequest('w.example.org', 'A', { do: true });
    const upstream: Message = {
      ...makeReply(req.query, { answer: [rr`w.example.org. 100 IN A 10.0.0.1`], additional: [rr`ns.example.org. 200 IN A 10.0.0.53`] }),
      edns: { udpSize: 4096, do: true, version: 0 },
    };
    const next = stubNext(req, new WireReply(encodeMessage(upstream)));
    await ask(cache, req, next);
    clock.t += 3000;
    const hit = cache.serve(req, next) as WireReply;
    const m = decodeMessage(hit.wire);
    expect(m.edns).to.equal(undefined);
    expect(m.answer[0]!.ttl).to.equal(97);
    expect(m.additional.map((r) => r.ttl)).to.deep.equal([97]);
  });

  it('does not store a reply whose question differs, and counts the drop', async () => {
    const { cache, env } = makeCache();
    const req = makeRequest('asked.example.org');
    const other = makeRequest('other.example.org');
    const next = stubNext(req, makeReply(other.query, { answer: [rr`other.example.org. 300 IN A 10.0.0.1`] }));
    await ask(cache, req, next);
    await ask(cache, req, next);
    expect(next.calls).to.equal(2);
    expect(await metric(env, 'coredns_cache_drops_total')).to.equal(2);
  });

  it('counts requests, hits by type, misses and entries with CoreDNS labels', async () => {
    const { cache, env } = makeCache();
    const req = makeRequest('m.example.org');
    const next = stubNext(req, answerA(300));
    await ask(cache, req, next);
    await ask(cache, req, next);
    await ask(cache, req, next);
    const labels = { server: 'dns://:53', zones: '.', view: '' };
    expect(await metric(env, 'coredns_cache_requests_total', labels)).to.equal(3);
    expect(await metric(env, 'coredns_cache_misses_total', labels)).to.equal(1);
    expect(await metric(env, 'coredns_cache_hits_total', { ...labels, type: 'success' })).to.equal(2);
    expect(await metric(env, 'coredns_cache_entries', { ...labels, type: 'success' })).to.equal(1);
  });
});

describe('cache prefetch', () => {
  it('refreshes a popular entry once, however many hits arrive while the fetch runs', async () => {
    const { cache, clock, env } = makeCache({ prefetch: { amount: 2, duration: '1m', percentage: 50 } });
    const req = makeRequest('hot.example.org');
    let release: (r: Reply) => void = () => {};
    let calls = 0;
    const next: Next = () => {
      calls++;
      if (calls === 1) return answerA(10)(req);
      return new Promise<Reply>((r) => (release = r));
    };
    await ask(cache, req, next);
    clock.t += 2000;
    await ask(cache, req, next); // popular, but 8s left of 10: above 50%
    expect(calls).to.equal(1);
    clock.t += 4000;
    for (let i = 0; i < 20; i++) await ask(cache, req, next);
    expect(calls, 'one prefetch in flight').to.equal(2);
    expect(await metric(env, 'coredns_cache_prefetch_total')).to.equal(1);
    release(answerA(10)(req));
    await new Promise((r) => setImmediate(r));
    expect((await ask(cache, req, next)).answer[0]!.ttl, 'refreshed entry').to.equal(10);
    expect(calls).to.equal(2);
  });

  it('does not prefetch entries that are not popular enough', async () => {
    const { cache, clock } = makeCache({ prefetch: { amount: 5 } });
    const req = makeRequest('cold.example.org');
    const next = stubNext(req, answerA(10));
    await ask(cache, req, next);
    clock.t += 9500;
    for (let i = 0; i < 3; i++) await ask(cache, req, next);
    expect(next.calls).to.equal(1);
  });
});

describe('cache serve_stale', () => {
  const fail: Next = () => Promise.reject(new DnsError(Rcode.SERVFAIL, 'all upstreams down'));

  it('immediate: answers an expired entry with TTL 0 and refreshes it in the background', async () => {
    const { cache, clock, env } = makeCache({ serve_stale: {} });
    const req = makeRequest('stale.example.org');
    await ask(cache, req, stubNext(req, answerA(10)));
    clock.t += 15_000;
    let calls = 0;
    const failing: Next = () => (calls++, fail());
    const stale = await ask(cache, req, failing);
    expect(stale.answer[0]!.ttl).to.equal(0);
    expect(stale.answer[0]).to.include({ type: 'A', data: '10.1.2.3' });
    expect(extendedErrors(stale.edns?.options), 'RFC 8914 Stale Answer').to.deep.equal([{ infoCode: 3, extraText: '' }]);
    expect(calls).to.equal(1);
    await new Promise((r) => setImmediate(r));
    // A SERVFAIL from the refresh must not shadow the stale answer.
    const refail = makeReply(req.query, { rcode: Rcode.SERVFAIL });
    expect((await ask(cache, req, () => refail)).answer).to.have.length(1);
    await new Promise((r) => setImmediate(r));
    expect((await ask(cache, req, failing)).answer).to.have.length(1);
    expect(await metric(env, 'coredns_cache_served_stale_total')).to.equal(3);
    // A successful refresh replaces it.
    await ask(cache, req, stubNext(req, answerA(30)));
    await new Promise((r) => setImmediate(r));
    expect((await ask(cache, req, fail)).answer[0]!.ttl).to.equal(30);
  });

  it('gives up on entries older than its duration', async () => {
    const { cache, clock } = makeCache({ serve_stale: { duration: '1m' } });
    const req = makeRequest('old.example.org');
    await ask(cache, req, stubNext(req, answerA(10)));
    clock.t += 71_000;
    let err: unknown;
    await ask(cache, req, fail).catch((e: unknown) => (err = e));
    expect(err).to.be.instanceOf(DnsError);
  });

  it('verify: asks upstream first and serves the stale entry only when that fails', async () => {
    const { cache, clock } = makeCache({ serve_stale: { refresh_mode: 'verify' } });
    const req = makeRequest('verify.example.org');
    await ask(cache, req, stubNext(req, answerA(10)));
    clock.t += 15_000;
    const fresh = await ask(cache, req, (() => makeReply(req.query, { answer: [rr`verify.example.org. 40 IN A 10.9.9.9`] })));
    expect(fresh.answer[0]).to.include({ data: '10.9.9.9', ttl: 40 });
    expect(extendedErrors(fresh.edns?.options), 'a verified answer is not stale').to.deep.equal([]);
    clock.t += 45_000;
    const stale = await ask(cache, req, fail);
    expect(stale.answer[0]).to.include({ data: '10.9.9.9', ttl: 0 });
    expect(extendedErrors(stale.edns?.options)).to.deep.equal([{ infoCode: 3, extraText: '' }]);
    const servfail = await ask(cache, req, () => makeReply(req.query, { rcode: Rcode.SERVFAIL }));
    expect(servfail.answer[0]).to.include({ data: '10.9.9.9', ttl: 0 });
  });
});

describe('cache capacity', () => {
  it('holds at most CAPACITY entries and bounded memory through 1,000,000 distinct names', async function () {
    this.timeout(120_000);
    const capacity = 100;
    const { cache, env } = makeCache({ success: { capacity } });
    v8.setFlagsFromString('--expose-gc');
    const gc = vm.runInNewContext('gc') as () => void;
    // One template reply; each name differs only in its digits, written into a copy of the bytes.
    const base = makeRequest('n0000000.example.org');
    const template = encodeMessage(makeReply(base.query, { answer: [rr`n0000000.example.org. 300 IN A 10.0.0.1`] }));
    const digitsAt = 13 + 1;
    let reply: Reply = new WireReply(template);
    const next: Next = () => reply;
    const run = (from: number, to: number): void => {
      for (let i = from; i < to; i++) {
        const digits = String(i).padStart(7, '0');
        const wire = Buffer.from(template);
        wire.write(digits, digitsAt, 'latin1');
        reply = new WireReply(wire);
        const req = { ...base, qname: `n${digits}.example.org` };
        cache.serve(req, next);
      }
    };
    run(0, 10_000);
    gc();
    const before = process.memoryUsage().heapUsed;
    run(10_000, 1_000_000);
    gc();
    const growth = process.memoryUsage().heapUsed - before;
    expect(cache.success.size).to.equal(capacity);
    expect(growth, `heap grew ${growth} bytes`).to.be.below(8 * 1024 * 1024);
    expect(await metric(env, 'coredns_cache_evictions_total', { type: 'success' })).to.equal(1_000_000 - capacity);
    expect(isWireReply(cache.serve({ ...base, qname: 'n0999999.example.org' }, () => { throw new Error('must be a hit'); }) as Reply)).to.equal(true);
  });
});
