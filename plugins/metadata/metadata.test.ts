// Adapted from CoreDNS plugin/metadata/metadata_test.go (TestMetadataServeDNS, TestLabelFormat) and
// setup_test.go (TestSetup), plus providers and readers through a real server.
import { expect } from 'chai';
import { definePlugin, isMetadataLabel, makeReply, Rcode, type Request, type TXTRecord } from 'nodens';
import { configErrorOf, makeRequest, parseDirective, startServer, stubNext } from 'nodens/testing';
import metadata from './index.js';
import { Collector, type Provider } from './metadata.js';

const provider = (values: Record<string, () => string>): Provider & { calls: number } => {
  const p = {
    calls: 0,
    metadata(req: Request) {
      p.calls++;
      for (const [label, value] of Object.entries(values)) req.metadata.set(label, value);
    },
  };
  return p;
};

describe('metadata: Collector (CoreDNS TestMetadataServeDNS)', () => {
  it('every provider sets its labels before the rest of the chain runs', async () => {
    const providers = [provider({ 'test/key1': () => 'testvalue1' }), provider({ 'test/key2': () => 'two', 'test/key3': () => 'testvalue3' })];
    const collector = new Collector([''], () => providers);
    const req = makeRequest('example.org', 'A');
    let seen: Record<string, string | undefined> = {};
    await collector.serve(req, stubNext(req, (r) => {
      seen = Object.fromEntries(['test/key1', 'test/key2', 'test/key3'].map((l) => [l, r.metadata.get(l)]));
      return makeReply(r.query);
    }));
    expect(seen).to.deep.equal({ 'test/key1': 'testvalue1', 'test/key2': 'two', 'test/key3': 'testvalue3' });
  });

  it('only for queries in its zones; the providers are looked up once', async () => {
    const p = provider({ 'test/key': () => 'v' });
    let lookups = 0;
    const collector = new Collector(['example.org'], () => (lookups++, [p]));
    for (const name of ['a.example.org', 'example.net', 'example.org']) {
      const req = makeRequest(name, 'A');
      await collector.serve(req, stubNext(req));
    }
    expect(p.calls).to.equal(2);
    expect(lookups).to.equal(1);
  });

  it('a value function runs only when read, and once', () => {
    let computed = 0;
    const req = makeRequest('example.org', 'A');
    void new Collector([''], () => [provider({ 'test/lazy': () => String(++computed) })]).serve(req, stubNext(req));
    expect(computed).to.equal(0);
    expect([req.metadata.get('test/lazy'), req.metadata.get('test/lazy')]).to.deep.equal(['1', '1']);
  });
});

describe('metadata: labels (CoreDNS TestLabelFormat)', () => {
  const labels: [string, boolean][] = [
    ['plugin/LABEL', true], ['p/LABEL', true], ['plugin/L', true], ['PLUGIN/LABEL/SUB-LABEL', true],
    ['LABEL', false], ['plugin.LABEL', false], ['/NO-PLUGIN-NOT-ACCEPTED', false], ['ONLY-PLUGIN-NOT-ACCEPTED/', false], ['/', false], ['//', false],
  ];
  for (const [label, valid] of labels) it(`${label} is ${valid ? '' : 'not '}a label`, () => expect(isMetadataLabel(label)).to.equal(valid));
});

describe('metadata: setup (CoreDNS TestSetup)', () => {
  const good: { corefile: string; want: object }[] = [
    { corefile: 'metadata', want: {} },
    { corefile: 'metadata example.com.', want: { zones: ['example.com'] } },
    { corefile: 'metadata example.com. net.', want: { zones: ['example.com', 'net'] } },
  ];
  for (const c of good) it(`parses ${c.corefile}`, () => expect(parseDirective(metadata, c.corefile)).to.deep.equal(c.want));

  it('rejects a block, and a second metadata', () => {
    expect(configErrorOf(() => parseDirective(metadata, 'metadata example.com. {\n  some_param\n}')).pos).to.include({ line: 3, col: 3 });
    expect(configErrorOf(() => parseDirective(metadata, 'metadata\nmetadata')).code).to.equal('ERR_DUPLICATE');
  });
});

describe('metadata: over sockets', () => {
  // A provider publishing the client's address, and a reader answering TXT with what it finds.
  const clientInfo = definePlugin({
    name: 'client-info', schema: { type: 'object' }, parse: () => ({}), before: 'forward',
    setup: () => ({ metadata: (req: Request) => req.metadata.set('client-info/address', () => req.client.address) }),
  });
  const reader = definePlugin({
    name: 'reader', schema: { type: 'object' }, parse: () => ({}), before: 'forward',
    setup: () => ({
      serve: (req) => makeReply(req.query, {
        rcode: Rcode.NOERROR,
        answer: [{ name: req.qname, ttl: 0, class: 'IN', type: 'TXT', data: [req.metadata.get('client-info/address') ?? 'none'] } satisfies TXTRecord],
      }),
    }),
  });
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  metadata\n  log . "{name} {/client-info/address}"\n  client-info\n  reader\n}\nexample.net {\n  client-info\n  reader\n}\n', { plugins: [clientInfo, reader] });
  });
  after(() => srv?.close());

  it('a block with metadata collects the labels; one without does not', async () => {
    expect((await srv.dig(['+short', 'TXT', 'example.org'])).trim()).to.equal('"127.0.0.1"');
    expect(srv.logs).to.include('[INFO] example.org. 127.0.0.1');
    expect((await srv.dig(['+short', 'TXT', 'example.net'])).trim()).to.equal('"none"');
  });
});
