// Adapted from CoreDNS plugin/any/any_test.go (TestAny, TestAnyNonANYQuery), plus setup and a dig round trip.
import { expect } from 'chai';
import { createRegistry, loadConfigText, messageOf } from 'nodens';
import { configErrorOf, makeRequest, rrText, startServer, stubNext } from 'nodens/testing';
import { serveAny } from './any.js';

describe('any: handler', () => {
  it('answers ANY with one HINFO record under the name as asked', () => {
    const req = makeRequest('Example.org', 'ANY');
    const next = stubNext(req);
    const reply = messageOf(serveAny(req, next) as ReturnType<typeof messageOf>);
    expect(next.calls).to.equal(0);
    expect(reply.rcode).to.equal(0);
    expect(reply.answer.map(rrText)).to.deep.equal(['Example.org. 8482 IN HINFO "ANY obsoleted" "See RFC 8482"']);
  });

  for (const qtype of ['A', 'AAAA', 'MX', 'TXT', 'CNAME', 'HINFO']) {
    it(`passes a ${qtype} query on`, () => {
      const req = makeRequest('example.org', qtype);
      const next = stubNext(req);
      serveAny(req, next);
      expect(next.calls).to.equal(1);
    });
  }
});

describe('any: setup', () => {
  const load = (directive: string) => loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} });
  it('takes no arguments and no block', () => {
    expect(load('any').servers[0]!.plugins.map((p) => p.name)).to.deep.equal(['any']);
    expect(configErrorOf(() => load('any x')).pos).to.include({ line: 2, col: 5 });
    expect(configErrorOf(() => load('any {\n  x\n}')).detail).to.match(/takes no block/);
  });
});

describe('any: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  any\n  hosts {\n    10.0.0.1 example.org\n  }\n}\n');
  });
  after(() => srv?.close());

  it('dig ANY shows the HINFO; an A query still reaches hosts', async () => {
    expect((await srv.dig(['+nocmd', 'ANY', 'example.org', '+noall', '+answer'])).trim())
      .to.match(/^example\.org\.\s+8482\s+IN\s+HINFO\s+"ANY obsoleted" "See RFC 8482"$/);
    expect((await srv.dig(['+short', 'A', 'example.org'])).trim()).to.equal('10.0.0.1');
  });
});
