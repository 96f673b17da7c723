// Adapted from CoreDNS plugin/nsid/nsid_test.go (TestNsid, TestNsidCache) and setup_test.go (TestSetupNsid),
// plus dig +nsid through a real server.
import { expect } from 'chai';
import { hostname } from 'node:os';
import {
  EdnsCode, encodeMessage, makeReply, messageOf, replyEdnsOptions, withEdnsOption, WireReply, type EdnsOption, type Reply,
} from 'nodens';
import { configErrorOf, makeRequest, parseDirective, rr, startServer, stubNext, testEnv } from 'nodens/testing';
import nsidPlugin from './index.js';
import { Nsid } from './nsid.js';

const NSID_REQUEST: EdnsOption = { code: EdnsCode.NSID, data: new Uint8Array(0) };
const COOKIE: EdnsOption = { code: EdnsCode.Cookie, data: new Uint8Array(8).fill(7) };
const text = (o: EdnsOption) => `${o.code}:${Buffer.from(o.data).toString('utf8')}`;

describe('nsid: handler', () => {
  const nsid = new Nsid('NSID');
  const cases: { name: string; options?: EdnsOption[]; reply?: (q: ReturnType<typeof makeRequest>) => Reply; want: string[] }[] = [
    { name: 'a query asking for the NSID gets it', options: [NSID_REQUEST], want: ['3:NSID'] },
    { name: 'a query with EDNS but no NSID option does not', options: [COOKIE], want: [] },
    { name: 'a query without EDNS does not', want: [] },
    {
      name: 'an NSID set below is replaced, other options kept',
      options: [NSID_REQUEST],
      reply: (req) => withEdnsOption(withEdnsOption(makeReply(req.query), { code: EdnsCode.NSID, data: Buffer.from('other') }), { code: 15, data: Buffer.from([0, 3]) }),
      want: ['3:NSID', '15:\u0000\u0003'],
    },
    {
      name: 'a wire reply (a cache hit) gets it too',
      options: [NSID_REQUEST],
      reply: (req) => new WireReply(encodeMessage(makeReply(req.query, { answer: [rr`example.org. 5 IN A 10.0.0.1`] }))),
      want: ['3:NSID'],
    },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const req = makeRequest('example.org', 'A', c.options ? { ednsOptions: c.options } : {});
      const next = stubNext(req, c.reply?.(req));
      const reply = await nsid.serve(req, next);
      expect(next.calls).to.equal(1);
      expect(replyEdnsOptions(reply).map(text)).to.deep.equal(c.want);
    });
  }

  it('passes the reply object through untouched when not asked', () => {
    const req = makeRequest('example.org', 'A');
    const upstream = makeReply(req.query);
    expect(nsid.serve(req, stubNext(req, upstream))).to.equal(upstream);
  });

  it('keeps a wire reply a wire reply (its bytes are not decoded)', () => {
    const req = makeRequest('example.org', 'A', { ednsOptions: [NSID_REQUEST] });
    const out = nsid.serve(req, stubNext(req, new WireReply(encodeMessage(makeReply(req.query)))));
    expect(out).to.be.instanceOf(WireReply);
    expect(messageOf(out as Reply).edns?.options?.map(text)).to.deep.equal(['3:NSID']);
  });
});

describe('nsid: setup (CoreDNS TestSetupNsid)', () => {
  const cases: { corefile: string; want: string }[] = [
    { corefile: 'nsid', want: hostname() || 'localhost' },
    { corefile: 'nsid "ps0"', want: 'ps0' },
    { corefile: 'nsid "worker1"', want: 'worker1' },
    { corefile: 'nsid "tf 2"', want: 'tf 2' },
    { corefile: 'nsid Use The Force', want: 'Use The Force' },
  ];
  for (const c of cases) {
    it(`${c.corefile} answers ${c.want}`, async () => {
      const handler = await nsidPlugin.setup(parseDirective(nsidPlugin, c.corefile), testEnv());
      const req = makeRequest('.', 'A', { ednsOptions: [NSID_REQUEST] });
      const reply = await handler.serve!(req, stubNext(req));
      expect(replyEdnsOptions(reply).map(text)).to.deep.equal([`3:${c.want}`]);
    });
  }

  it('may appear only once per server block', () => {
    expect(configErrorOf(() => parseDirective(nsidPlugin, 'nsid\nnsid')).code).to.equal('ERR_DUPLICATE');
  });
});

describe('nsid: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  nsid Use The Force\n  cache\n  hosts {\n    10.0.0.1 example.org\n  }\n}\n');
  });
  after(() => srv?.close());

  it('dig +nsid shows the NSID, on a fresh answer and on a cached one (CoreDNS TestNsidCache)', async () => {
    const want = /; NSID: 55 73 65 20 54 68 65 20 46 6f 72 63 65 \("Use The Force"\)/;
    // The first query fills the cache without asking for the NSID: the cached reply must not carry one.
    expect(await srv.dig(['A', 'example.org'])).to.not.match(/NSID/);
    expect(await srv.dig(['+nsid', 'A', 'example.org'])).to.match(want);
    expect(await srv.dig(['+nsid', 'A', 'example.org'])).to.match(want);
    expect(await srv.dig(['A', 'example.org'])).to.not.match(/NSID/);
  });
});
