// Tests as a plugin author writes them: the handler through makeRequest, then a real server.
import { expect } from 'chai';
import { makeRequest, rrText, startServer, stubNext } from 'nodens/testing';
import whoami from './index.js';
import { parse } from './setup.js';
import { serveWhoami } from './whoami.js';

describe('example plugin: whoami', () => {
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
      const handler = await whoami.setup({}, undefined as never);
      const reply = handler.serve!(req, next) as ReturnType<typeof serveWhoami>;
      expect(next.calls).to.equal(0);
      expect(reply.aa).to.equal(true);
      expect(reply.answer).to.deep.equal([]);
      expect(reply.additional.map(rrText)).to.deep.equal(c.want);
    });
  }

  it('takes no arguments', () => {
    const pos = { file: 'Corefile', line: 1, col: 1 };
    expect(() => parse({ name: { text: 'whoami', pos }, args: [{ text: 'x', pos: { ...pos, col: 8 } }] })).to.throw(/want 0, got 1/);
  });

  it('declares its place in the chain', () => {
    expect(whoami.before).to.equal('forward');
  });

  describe('in a server', () => {
    let srv: Awaited<ReturnType<typeof startServer>>;
    before(async () => {
      srv = await startServer('example.org {\n  whoami\n}\n', { plugins: [whoami] });
    });
    after(async () => {
      await srv?.close();
    });

    for (const transport of ['udp', 'tcp'] as const) {
      it(`answers over ${transport} with the client's address and transport`, async () => {
        const m = await srv.query('example.org', 'A', { transport });
        expect(m.rcode).to.equal(0);
        expect(m.additional.map((r) => r.type)).to.deep.equal(['A', 'SRV']);
        expect(rrText(m.additional[0]!)).to.equal('example.org. 0 IN A 127.0.0.1');
        expect(m.additional[1]!.name).to.equal(`_${transport}.example.org`);
      });
    }
  });
});
