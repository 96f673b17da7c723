// Tests as a plugin author writes them, with nothing but nodens and Node's own test runner: the
// options through parseDirective, the handler through makeRequest, then a real server and dig.
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { makeRequest, parseDirective, rrText, startServer, stubNext, testEnv, type TestServer } from 'nodens/testing';
import whoami from './index.js';

describe('whoami', () => {
  const cases: { name: string; q: string; opts: Parameters<typeof makeRequest>[2]; want: string[] }[] = [
    { name: 'IPv4 client over UDP', q: 'Example.org', opts: { clientAddress: '10.240.0.1', clientPort: 40212 },
      want: ['Example.org. 0 IN A 10.240.0.1', '_udp.Example.org. 0 IN SRV 0 0 40212 .'] },
    { name: 'IPv6 client over TCP', q: 'example.org', opts: { clientAddress: '2001:db8::1', clientPort: 5353, transport: 'tcp' },
      want: ['example.org. 0 IN AAAA 2001:db8::1', '_tcp.example.org. 0 IN SRV 0 0 5353 .'] },
    { name: 'IPv4-mapped client on a dual-stack socket', q: 'a.b', opts: { clientAddress: '::ffff:127.0.0.1', clientPort: 1 },
      want: ['a.b. 0 IN A 127.0.0.1', '_udp.a.b. 0 IN SRV 0 0 1 .'] },
    { name: 'the root name', q: '.', opts: { clientAddress: '127.0.0.1', clientPort: 2 },
      want: ['. 0 IN A 127.0.0.1', '_udp. 0 IN SRV 0 0 2 .'] },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const req = makeRequest(c.q, 'A', c.opts);
      const next = stubNext(req);
      const handler = await whoami.setup(parseDirective(whoami, 'whoami'), testEnv({ plugin: 'whoami' }));
      const reply = await handler.serve!(req, next);
      assert.equal(next.calls, 0);
      assert.ok(!('wire' in reply), 'whoami answers with a Message');
      assert.equal(reply.aa, true);
      assert.deepEqual(reply.answer, []);
      assert.deepEqual(reply.additional.map(rrText), c.want);
    });
  }

  it('takes no arguments, and says where', () => {
    assert.throws(() => parseDirective(whoami, 'whoami x'), /Corefile:2:8: .*want 0, got 1/);
  });

  it('declares its place in the chain', () => {
    assert.equal(whoami.before, 'forward');
  });

  describe('in a server', () => {
    let srv: TestServer;
    before(async () => {
      srv = await startServer('example.org {\n  whoami\n}\n', { plugins: [whoami] });
    });
    after(() => srv?.close());

    for (const transport of ['udp', 'tcp'] as const) {
      it(`answers over ${transport} with the client's address and transport`, async () => {
        const m = await srv.query('example.org', 'A', { transport });
        assert.equal(m.rcode, 0);
        assert.deepEqual(m.additional.map((r) => r.type), ['A', 'SRV']);
        assert.equal(rrText(m.additional[0]!), 'example.org. 0 IN A 127.0.0.1');
        assert.equal(m.additional[1]!.name, `_${transport}.example.org`);
      });
    }

    it('answers dig', async () => {
      const out = await srv.dig(['example.org', 'A']);
      assert.match(out, /status: NOERROR/);
      assert.match(out, /^example\.org\.\s+0\s+IN\s+A\s+127\.0\.0\.1$/m);
      assert.match(out, /^_udp\.example\.org\.\s+0\s+IN\s+SRV\s+0 0 \d+ \.$/m);
    });
  });
});
