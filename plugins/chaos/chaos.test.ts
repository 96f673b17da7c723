// Adapted from CoreDNS plugin/chaos/chaos_test.go (TestChaos) and setup_test.go (TestSetupChaos), plus the
// CH class through a real server (a block without chaos refuses it).
import { expect } from 'chai';
import { hostname } from 'node:os';
import { createRegistry, loadConfigText, messageOf, VERSION, type Reply, type Request, type TXTRecord } from 'nodens';
import { configErrorOf, makeRequest, rrText, startServer, stubNext } from 'nodens/testing';
import { Chaos, trim } from './chaos.js';
import { setup, type ChaosOptions } from './setup.js';

const VERSION_001 = 'CoreDNS-001';

const chRequest = (name: string, type = 'TXT'): Request => makeRequest(name, type, { class: 'CH' });

describe('chaos: handler', () => {
  const chaos = new Chaos({ version: VERSION_001, authors: ['Miek Gieben'], hostname: () => 'ns1.example' });
  const cases: { name: string; req: Request; want?: string[] }[] = [
    { name: 'version.bind', req: chRequest('version.bind'), want: ['version.bind. 0 CH TXT "CoreDNS-001"'] },
    { name: 'version.server', req: chRequest('version.server'), want: ['version.server. 0 CH TXT "CoreDNS-001"'] },
    { name: 'authors.bind', req: chRequest('authors.bind'), want: ['authors.bind. 0 CH TXT "Miek Gieben"'] },
    { name: 'hostname.bind', req: chRequest('hostname.bind'), want: ['hostname.bind. 0 CH TXT "ns1.example"'] },
    { name: 'id.server, as the client spelled it', req: chRequest('ID.Server'), want: ['ID.Server. 0 CH TXT "ns1.example"'] },
    { name: 'authors.bind SRV goes on', req: chRequest('authors.bind', 'SRV') },
    { name: 'another CH name goes on', req: chRequest('example.org') },
    { name: 'IN TXT version.bind goes on', req: makeRequest('version.bind', 'TXT') },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const next = stubNext(c.req);
      const reply = chaos.serve(c.req, next) as Reply;
      if (!c.want) {
        expect(next.calls).to.equal(1);
        return;
      }
      expect(next.calls).to.equal(0);
      expect(messageOf(reply).rcode).to.equal(0);
      expect(messageOf(reply).answer.map(rrText)).to.deep.equal(c.want);
    });
  }

  it('answers every author, in a random order', () => {
    const authors = ['a', 'b', 'c'];
    const orders = new Set<string>();
    const shuffling = new Chaos({ version: 'v', authors, hostname: () => 'h' });
    for (let i = 0; i < 60 && orders.size < 2; i++) {
      const texts = messageOf(shuffling.serve(chRequest('authors.bind'), stubNext(chRequest('x'))) as Reply).answer.map((r) => (r as TXTRecord).data[0]);
      expect([...texts].sort()).to.deep.equal(authors);
      orders.add(texts.join());
    }
    expect(orders.size).to.be.greaterThan(1);
  });

  it('cuts values to 255 characters', () => {
    expect(trim('x'.repeat(300))).to.have.length(255);
    expect(trim('x'.repeat(255))).to.have.length(255);
  });
});

describe('chaos: setup', () => {
  const load = (directive: string): ChaosOptions =>
    loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} }).servers[0]!.plugins[0]!.options as ChaosOptions;
  const cases: { corefile: string; want: ChaosOptions }[] = [
    { corefile: 'chaos', want: {} },
    { corefile: 'chaos v2', want: { version: 'v2' } },
    { corefile: 'chaos v3 "Miek Gieben"', want: { version: 'v3', authors: ['Miek Gieben'] } },
    { corefile: 'chaos v4 zed amy zed', want: { version: 'v4', authors: ['amy', 'zed'] } },
  ];
  for (const c of cases) it(`parses ${c.corefile}`, () => expect(load(c.corefile)).to.deep.equal(c.want));

  it('rejects a block', () => {
    const err = configErrorOf(() => load('chaos v2 {\n  unknown\n}'));
    expect(err.pos).to.include({ line: 3, col: 3 });
  });

  it('defaults to nodens-<version> and the host name', () => {
    const handler = setup(load('chaos'));
    const ask = (name: string) => messageOf(handler.serve!(chRequest(name), stubNext(chRequest(name))) as Reply).answer.map((r) => (r as TXTRecord).data[0]);
    expect(ask('version.bind')).to.deep.equal([`nodens-${VERSION}`]);
    expect(ask('hostname.bind')).to.deep.equal([trim(hostname())]);
  });
});

describe('chaos: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer([
      '. {\n  chaos CoreDNS-001 info@coredns.io\n  hosts {\n    10.0.0.1 example.org\n  }\n}',
      'example.net {\n  hosts {\n    10.0.0.2 example.net\n  }\n}',
    ].join('\n'));
  });
  after(() => srv?.close());

  it('dig CH TXT version.bind shows the version', async () => {
    const out = await srv.dig(['CH', 'TXT', 'version.bind', '+noall', '+answer']);
    expect(out.trim()).to.match(/^version\.bind\.\s+0\s+CH\s+TXT\s+"CoreDNS-001"$/);
    expect((await srv.dig(['+short', 'CH', 'TXT', 'authors.bind'])).trim()).to.equal('"info@coredns.io"');
  });

  it('IN queries in the same block still reach hosts', async () => {
    expect((await srv.dig(['+short', 'A', 'example.org'])).trim()).to.equal('10.0.0.1');
  });

  it('a block without chaos refuses the CH class; a class chaos does not answer is refused too', async () => {
    expect(await srv.dig(['CH', 'TXT', 'version.example.net'])).to.match(/status: REFUSED/);
    expect(await srv.dig(['HS', 'TXT', 'version.bind'])).to.match(/status: REFUSED/);
  });
});
