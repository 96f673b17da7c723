// Adapted from CoreDNS plugin/minimal/minimal_test.go (TestMinimizeResponse) and plugin/pkg/response/typify_test.go,
// plus wire replies, expired signatures and a server round trip.
import { expect } from 'chai';
import {
  createRegistry, definePlugin, encodeMessage, loadConfigText, makeQuery, makeReply, messageOf, Rcode, WireReply, type Message, type ResourceRecord,
} from 'nodens';
import { configErrorOf, makeRequest, rr, rrText, startServer, stubNext } from 'nodens/testing';
import { minimize, serveMinimal } from './minimal.js';
import { replyKind, type ReplyKind } from './typify.js';

const answer = [rr`example.com. 293 IN A 142.250.76.46`];
const ns = [
  rr`example.com. 157127 IN NS ns2.example.com.`, rr`example.com. 157127 IN NS ns1.example.com.`,
  rr`example.com. 157127 IN NS ns3.example.com.`, rr`example.com. 157127 IN NS ns4.example.com.`,
];
const extra = [
  rr`ns2.example.com. 316273 IN A 216.239.34.10`, rr`ns2.example.com. 157127 IN AAAA 2001:4860:4802:34::a`,
  rr`ns3.example.com. 316274 IN A 216.239.36.10`, rr`ns3.example.com. 157127 IN AAAA 2001:4860:4802:36::a`,
];
const soa = [rr`example.com. 60 IN SOA ns1.example.com. hostmaster.example.com. 1 7200 1800 86400 60`];
const query = makeQuery('example.com', 'A');
const reply = (rcode: number, a: ResourceRecord[], n: ResourceRecord[], x: ResourceRecord[]): Message =>
  makeReply(query, { rcode, answer: a, authority: n, additional: x });
const texts = (m: Message) => [m.answer.map(rrText), m.authority.map(rrText), m.additional.map(rrText)];

describe('minimal: minimize', () => {
  const cases: { name: string; original: Message; want: Message }[] = [
    { name: 'a NOERROR answer loses its additional section', original: reply(0, answer, [], extra), want: reply(0, answer, [], []) },
    { name: 'and its authority section', original: reply(0, answer, ns, extra), want: reply(0, answer, [], []) },
    { name: 'a delegation is kept whole', original: reply(0, [], ns, extra), want: reply(0, [], ns, extra) },
    { name: 'an error is kept whole', original: reply(Rcode.SERVFAIL, answer, ns, extra), want: reply(Rcode.SERVFAIL, answer, ns, extra) },
    { name: 'NODATA keeps its SOA', original: reply(0, [], soa, []), want: reply(0, [], soa, []) },
    { name: 'NXDOMAIN keeps its SOA', original: reply(Rcode.NXDOMAIN, [], soa, []), want: reply(Rcode.NXDOMAIN, [], soa, []) },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = texts(c.original);
      const out = minimize(c.original);
      expect(texts(messageOf(out))).to.deep.equal(texts(c.want));
      if (before.join() === texts(c.want).join()) expect(out, 'the same object when nothing changes').to.equal(c.original);
      expect(texts(c.original), 'the original is untouched').to.deep.equal(before);
    });
  }

  it('leaves a wire reply with no authority or additional records undecoded', () => {
    const wire = new WireReply(encodeMessage(reply(0, answer, [], [])));
    expect(minimize(wire)).to.equal(wire);
  });

  it('leaves a wire reply whose only additional record is its OPT (a forwarded answer) undecoded', () => {
    const wire = new WireReply(encodeMessage({ ...reply(0, answer, [], []), edns: { udpSize: 1232, do: false, version: 0 } }));
    expect(minimize(wire)).to.equal(wire);
    const glued = new WireReply(encodeMessage(reply(0, answer, [], [extra[0]!])));
    expect(texts(messageOf(minimize(glued)))).to.deep.equal([answer.map(rrText), [], []]);
  });

  it('decodes and strips a wire reply with glue', () => {
    const out = minimize(new WireReply(encodeMessage(reply(0, answer, ns, extra))));
    expect(texts(messageOf(out))).to.deep.equal([answer.map(rrText), [], []]);
  });

  it('stays synchronous when the chain below is', () => {
    const req = makeRequest('example.com', 'A');
    const out = serveMinimal(req, stubNext(req, reply(0, answer, ns, extra)));
    expect(out).to.not.be.instanceOf(Promise);
    expect(texts(messageOf(out as Message))).to.deep.equal([answer.map(rrText), [], []]);
  });
});

/** An RRSIG's RDATA with the given inception and expiration (seconds since the epoch). */
function rrsig(inception: number, expiration: number): ResourceRecord {
  const data = new Uint8Array(18 + 1);
  const view = new DataView(data.buffer);
  view.setUint16(0, 1); // covers A
  view.setUint32(8, expiration);
  view.setUint32(12, inception);
  return { name: 'example.com', ttl: 60, class: 'IN', type: 'OPAQUE', rrtype: 'RRSIG', data };
}

describe('minimal: replyKind (CoreDNS response.Typify)', () => {
  const now = Date.UTC(2026, 0, 1);
  const t = now / 1000;
  const withDo = (m: Message): Message => ({ ...m, edns: { udpSize: 1232, do: true, version: 0 } });
  const cases: { name: string; m: Message; want: ReplyKind }[] = [
    { name: 'answer, NOERROR', m: reply(0, answer, [], []), want: 'NOERROR' },
    { name: 'answer, NXDOMAIN', m: reply(Rcode.NXDOMAIN, answer, [], []), want: 'OTHERERROR' },
    { name: 'SOA, NOERROR', m: reply(0, [], soa, []), want: 'NODATA' },
    { name: 'NXDOMAIN', m: reply(Rcode.NXDOMAIN, [], soa, []), want: 'NXDOMAIN' },
    { name: 'SERVFAIL', m: reply(Rcode.SERVFAIL, [], [], []), want: 'SERVERERROR' },
    { name: 'NOTIMP', m: reply(Rcode.NOTIMP, [], [], []), want: 'SERVERERROR' },
    { name: 'REFUSED', m: reply(Rcode.REFUSED, [], [], []), want: 'OTHERERROR' },
    { name: 'NS, NOERROR', m: reply(0, [], ns, extra), want: 'DELEGATION' },
    { name: 'empty NOERROR', m: reply(0, [], [], extra), want: 'NOERROR' },
    { name: 'AXFR', m: { ...reply(0, answer, ns, []), question: [{ name: 'example.com', type: 'AXFR', class: 'IN' }] }, want: 'META' },
    { name: 'NOTIFY', m: { ...reply(0, [], [], []), opcode: 4 }, want: 'META' },
    { name: 'UPDATE', m: { ...reply(0, [], [], []), opcode: 5 }, want: 'UPDATE' },
    { name: 'DO, valid signature', m: withDo(reply(0, [...answer, rrsig(t - 3600, t + 3600)], ns, [])), want: 'NOERROR' },
    { name: 'DO, expired signature', m: withDo(reply(0, [...answer, rrsig(t - 7200, t - 3600)], ns, [])), want: 'OTHERERROR' },
    { name: 'DO, not yet valid signature', m: withDo(reply(0, answer, ns, [rrsig(t + 3600, t + 7200)])), want: 'OTHERERROR' },
    { name: 'no DO, expired signature', m: reply(0, [...answer, rrsig(t - 7200, t - 3600)], ns, []), want: 'NOERROR' },
  ];
  for (const c of cases) it(c.name, () => expect(replyKind(c.m, now)).to.equal(c.want));
});

describe('minimal: setup', () => {
  const load = (directive: string) => loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} });
  it('takes no arguments', () => {
    expect(load('minimal').servers[0]!.plugins.map((p) => p.name)).to.deep.equal(['minimal']);
    expect(configErrorOf(() => load('minimal yes')).pos).to.include({ line: 2, col: 9 });
  });
});

describe('minimal: over sockets', () => {
  // An authoritative-looking plugin that adds NS records and glue, placed after minimal in the chain.
  const glue = definePlugin({
    name: 'glue', schema: { type: 'object' }, parse: () => ({}), after: 'minimal',
    setup: () => ({ serve: (req) => makeReply(req.query, { aa: true, answer: answer.map((r) => ({ ...r, name: req.qname })), authority: ns, additional: extra }) }),
  });
  let srv: Awaited<ReturnType<typeof startServer>>;
  let plain: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('. {\n  minimal\n  glue\n}\n', { plugins: [glue] });
    plain = await startServer('. {\n  glue\n}\n', { plugins: [glue] });
  });
  after(async () => {
    await srv?.close();
    await plain?.close();
  });

  it('dig shows the answer section only, where the same chain without minimal sends glue', async () => {
    const full = await plain.dig(['A', 'example.com']);
    expect(full).to.match(/AUTHORITY: 4, ADDITIONAL: 5/);
    const out = await srv.dig(['A', 'example.com']);
    expect(out).to.match(/ANSWER: 1, AUTHORITY: 0, ADDITIONAL: 1/); // the 1 is dig's OPT
    expect(out).to.match(/example\.com\.\s+293\s+IN\s+A\s+142\.250\.76\.46/);
  });
});
