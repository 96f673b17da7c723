// Adapted from CoreDNS plugin/local/local_test.go (testcases, the localhost_prefix tests) and setup_test.go,
// plus the metric and dig through a real server.
import { expect } from 'chai';
import { createRegistry, loadConfigText, messageOf, Rcode, type Reply } from 'nodens';
import { configErrorOf, makeRequest, rrText, startServer, stubNext } from 'nodens/testing';
import { Local } from './local.js';
import type { LocalOptions } from './setup.js';

const SOA = (origin: string) => `${origin} 604800 IN SOA localhost. root.localhost. 1 0 0 0 604800`;

describe('local: handler', () => {
  const local = new Local({ localhostPrefix: true });
  const cases: { q: string; type: string; rcode: number; answer?: string; ns?: string }[] = [
    { q: 'localhost.', type: 'A', rcode: Rcode.NOERROR, answer: 'localhost. 604800 IN A 127.0.0.1' },
    { q: 'localHOst.', type: 'A', rcode: Rcode.NOERROR, answer: 'localHOst. 604800 IN A 127.0.0.1' },
    { q: 'localhost.', type: 'AAAA', rcode: Rcode.NOERROR, answer: 'localhost. 604800 IN AAAA ::1' },
    { q: 'localhost.', type: 'NS', rcode: Rcode.NOERROR, answer: 'localhost. 604800 IN NS localhost.' },
    { q: 'localhost.', type: 'SOA', rcode: Rcode.NOERROR, answer: SOA('localhost.') },
    { q: '127.in-addr.arpa.', type: 'A', rcode: Rcode.NOERROR, ns: SOA('127.in-addr.arpa.') },
    { q: 'localhost.', type: 'MX', rcode: Rcode.NOERROR, ns: SOA('localhost.') },
    { q: 'a.localhost.', type: 'A', rcode: Rcode.NOERROR, answer: 'a.localhost. 604800 IN A 127.0.0.1' },
    { q: 'a.localhost.', type: 'AAAA', rcode: Rcode.NOERROR, answer: 'a.localhost. 604800 IN AAAA ::1' },
    { q: 'a.localhost.', type: 'MX', rcode: Rcode.NOERROR, ns: SOA('a.localhost.') },
    { q: '1.0.0.127.in-addr.arpa.', type: 'PTR', rcode: Rcode.NOERROR, answer: '1.0.0.127.in-addr.arpa. 604800 IN PTR localhost.' },
    { q: '1.0.0.127.in-addr.arpa.', type: 'MX', rcode: Rcode.NOERROR, ns: SOA('127.in-addr.arpa.') },
    { q: '2.0.0.127.in-addr.arpa.', type: 'PTR', rcode: Rcode.NXDOMAIN, ns: SOA('127.in-addr.arpa.') },
    // Beyond CoreDNS's table: the other reverse zones, and the legacy prefix.
    { q: '0.in-addr.arpa.', type: 'SOA', rcode: Rcode.NOERROR, answer: SOA('0.in-addr.arpa.') },
    { q: '255.in-addr.arpa.', type: 'NS', rcode: Rcode.NOERROR, answer: '255.in-addr.arpa. 604800 IN NS localhost.' },
    { q: '1.255.in-addr.arpa.', type: 'PTR', rcode: Rcode.NXDOMAIN, ns: SOA('255.in-addr.arpa.') },
    { q: 'localhost.example.net.', type: 'A', rcode: Rcode.NOERROR, answer: 'localhost.example.net. 604800 IN A 127.0.0.1' },
  ];
  for (const c of cases) {
    it(`${c.q} ${c.type}`, () => {
      const req = makeRequest(c.q, c.type);
      const next = stubNext(req);
      const m = messageOf(local.serve(req, next) as Reply);
      expect(next.calls).to.equal(0);
      expect(m.rcode).to.equal(c.rcode);
      expect(m.answer.map(rrText)).to.deep.equal(c.answer ? [c.answer] : []);
      expect(m.authority.map(rrText)).to.deep.equal(c.ns ? [c.ns] : []);
    });
  }

  const passed: { name: string; local: Local; q: string }[] = [
    { name: 'a name outside the local zones', local, q: 'example.org' },
    { name: 'the ip6.arpa loopback (not intercepted, as CoreDNS)', local, q: '1.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.ip6.arpa' },
    { name: 'localhost.<domain> with localhost_prefix off', local: new Local({ localhostPrefix: false }), q: 'localhost.example.net' },
    { name: 'a name that only starts with localhost', local, q: 'localhostx.example.net' },
  ];
  for (const c of passed) {
    it(`passes on ${c.name}`, () => {
      const req = makeRequest(c.q, 'A');
      const next = stubNext(req);
      c.local.serve(req, next);
      expect(next.calls).to.equal(1);
    });
  }

  it('reports the non-apex localhost names only', () => {
    const seen: string[] = [];
    const counting = new Local({ localhostPrefix: true, onLocalhost: (req) => seen.push(req.qname) });
    for (const q of ['localhost', 'a.localhost', 'localhost.example.net', '1.0.0.127.in-addr.arpa']) counting.serve(makeRequest(q, 'A'), stubNext(makeRequest(q)));
    expect(seen).to.deep.equal(['a.localhost', 'localhost.example.net']);
  });
});

describe('local: setup', () => {
  const load = (directive: string): LocalOptions =>
    loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} }).servers[0]!.plugins[0]!.options as LocalOptions;

  it('parses local and localhost_prefix', () => {
    expect(load('local')).to.deep.equal({});
    expect(load('local {\n  localhost_prefix off\n}')).to.deep.equal({ localhostPrefix: false });
    expect(load('local {\n  localhost_prefix on\n}')).to.deep.equal({ localhostPrefix: true });
  });

  const bad: { corefile: string; line: number; col: number; message: RegExp }[] = [
    { corefile: 'local example.org', line: 2, col: 7, message: /wrong argument count/ },
    { corefile: 'local {\n  foo\n}', line: 3, col: 3, message: /unknown property 'foo'/ },
    { corefile: 'local {\n  localhost_prefix maybe\n}', line: 3, col: 20, message: /must be one of on, off/ },
    { corefile: 'local {\n  localhost_prefix\n}', line: 3, col: 3, message: /wrong argument count/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.corefile.replace(/\n/g, ' ')}`, () => {
      const err = configErrorOf(() => load(c.corefile));
      expect(err.pos).to.include({ line: c.line, col: c.col });
      expect(err.detail).to.match(c.message);
    });
  }
});

describe('local: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('. {\n  local\n  prometheus 127.0.0.1:0\n  hosts {\n    10.0.0.1 example.org\n  }\n}\n');
  });
  after(() => srv?.close());

  it('dig answers localhost names and the loopback PTR; other names reach hosts', async () => {
    expect((await srv.dig(['+short', 'A', 'localhost'])).trim()).to.equal('127.0.0.1');
    expect((await srv.dig(['+short', 'AAAA', 'app.localhost'])).trim()).to.equal('::1');
    expect((await srv.dig(['+short', '-x', '127.0.0.1'])).trim()).to.equal('localhost.');
    expect(await srv.dig(['-x', '127.0.0.2'])).to.match(/status: NXDOMAIN/);
    expect((await srv.dig(['+short', 'A', 'example.org'])).trim()).to.equal('10.0.0.1');
  });

  it('counts the non-apex localhost queries in coredns_local_localhost_requests_total', async () => {
    const count = async () => Number(/^coredns_local_localhost_requests_total (\d+)$/m.exec((await srv.server.metrics.scrape()).body)?.[1] ?? NaN);
    const before = await count();
    await srv.query('x.localhost', 'A');
    await srv.query('localhost', 'A');
    expect(await count()).to.equal(before + 1);
  });
});
