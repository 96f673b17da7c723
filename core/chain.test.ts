// The chain and derived requests: next(changes) hands the rest of the chain a request with a new
// question or EDNS options, keeping everything else; next() alone passes the request itself.
import { expect } from 'chai';
import { compose, errorPlugin, type ChainLink } from './chain.js';
import { EdnsCode } from './edns.js';
import { makeQuery, makeReply, type Message, type Reply } from './message.js';
import { DnsError, type Done, type Handler, type Request, type RequestChanges } from './plugin.js';
import { QueryRequest, type SignalOwner } from './request.js';

const owner: SignalOwner = { deadlineMs: 5000, track: () => {}, untrack: () => {} };

function rootRequest(name = 'Web.Old.Test', type = 'A', query?: Message): QueryRequest {
  const q = query ?? makeQuery(name, type, { id: 77 });
  const req = new QueryRequest({
    query: q, qname: name.toLowerCase(), qtype: type, qclass: 'IN',
    client: { address: '10.1.2.3', port: 40000, transport: 'tcp', family: 4 }, local: { address: '127.0.0.1', port: 1053 },
    size: 33, start: 1234,
  }, owner);
  req.zone = 'old.test';
  return req;
}

/** A chain of: a plugin calling next(changes), then one that records the request it sees and answers. */
function deriving(changes: RequestChanges | undefined, answer?: (req: Request) => Reply): { links: ChainLink[]; seen: Request[] } {
  const seen: Request[] = [];
  const links: ChainLink[] = [
    { name: 'rewrite', handler: { serve: (_req, next) => next(changes) } },
    { name: 'hosts', handler: { serve: (req) => (seen.push(req), answer ? answer(req) : makeReply(req.query)) } },
  ];
  return { links, seen };
}

async function run(links: ChainLink[], req: QueryRequest): Promise<Reply> {
  return compose(links)(req);
}

describe('chain: derived requests', () => {
  it('next() without changes passes the very same request on', async () => {
    const req = rootRequest();
    const { links, seen } = deriving(undefined);
    await run(links, req);
    expect(seen[0]).to.equal(req);
  });

  const questions: { name: string; changes: RequestChanges; want: { qname: string; qtype: string; qclass: string; question: string } }[] = [
    { name: 'a new name, lower-cased, trailing dot dropped', changes: { name: 'Web.NEW.test.' }, want: { qname: 'web.new.test', qtype: 'A', qclass: 'IN', question: 'Web.NEW.test A IN' } },
    { name: 'a new type, by any spelling', changes: { type: 'srv' }, want: { qname: 'web.old.test', qtype: 'SRV', qclass: 'IN', question: 'Web.Old.Test SRV IN' } },
    { name: 'a TYPEn type with a name', changes: { type: 'TYPE28' }, want: { qname: 'web.old.test', qtype: 'AAAA', qclass: 'IN', question: 'Web.Old.Test AAAA IN' } },
    { name: 'a new class', changes: { class: 'ch' }, want: { qname: 'web.old.test', qtype: 'A', qclass: 'CH', question: 'Web.Old.Test A CH' } },
    { name: 'the root', changes: { name: '.' }, want: { qname: '', qtype: 'A', qclass: 'IN', question: ' A IN' } },
  ];
  for (const row of questions) {
    it(`the rest of the chain sees ${row.name}`, async () => {
      const req = rootRequest();
      const { links, seen } = deriving(row.changes);
      await run(links, req);
      const d = seen[0]!;
      expect({ qname: d.qname, qtype: d.qtype, qclass: d.qclass }).to.deep.equal({ qname: row.want.qname, qtype: row.want.qtype, qclass: row.want.qclass });
      const q = d.query.question[0]!;
      expect(`${q.name} ${q.type} ${q.class}`).to.equal(row.want.question);
      expect(d.query.id).to.equal(77);
      expect(req.qname, 'the original is untouched').to.equal('web.old.test');
      expect(req.query.question[0]!.name).to.equal('Web.Old.Test');
    });
  }

  it('keeps client, listener, zone, size, start, deadline signal and original', async () => {
    const req = rootRequest();
    const { links, seen } = deriving({ name: 'web.new.test' });
    await run(links, req);
    const d = seen[0]!;
    expect(d).to.not.equal(req);
    expect(d.client).to.equal(req.client);
    expect(d.local).to.equal(req.local);
    expect([d.zone, d.server, d.size, d.start]).to.deep.equal(['old.test', 'dns://:1053', 33, 1234]);
    expect(d.signal).to.equal(req.signal);
    expect(d.original).to.equal(req);
    req.finish({ reply: undefined, rcode: 0, size: 0, truncated: false, durationMs: 0, plugin: undefined });
  });

  it('a request derived from a derived one still names the client\'s request as original', async () => {
    const req = rootRequest();
    let inner: Request | undefined;
    const links: ChainLink[] = [
      { name: 'one', handler: { serve: (_r, next) => next({ name: 'a.test' }) } },
      { name: 'two', handler: { serve: (_r, next) => next({ type: 'AAAA' }) } },
      { name: 'three', handler: { serve: (r) => ((inner = r), makeReply(r.query)) } },
    ];
    await run(links, req);
    expect([inner!.qname, inner!.qtype]).to.deep.equal(['a.test', 'AAAA']);
    expect(inner!.original).to.equal(req);
  });

  it('a listener registered on a derived request fires once, with the Done of the query', async () => {
    const req = rootRequest();
    const calls: Done[] = [];
    const { links } = deriving({ name: 'web.new.test' }, (d) => {
      d.onDone((done) => calls.push(done));
      return makeReply(d.query);
    });
    await run(links, req);
    expect(req.awaitsFinish).to.equal(true);
    const done: Done = { reply: undefined, rcode: 3, size: 50, truncated: false, durationMs: 1, plugin: 'hosts' };
    req.finish(done);
    expect(calls).to.deep.equal([done]);
    expect(calls[0]).to.equal(done);
  });

  it('shares metadata both ways with the original', async () => {
    const req = rootRequest();
    req.metadata.set('test/before', 'b');
    const { links } = deriving({ name: 'web.new.test' }, (d) => {
      expect(d.metadata.get('test/before')).to.equal('b');
      d.metadata.set('test/after', () => d.qname);
      return makeReply(d.query);
    });
    await run(links, req);
    expect(req.metadata.get('test/after')).to.equal('web.new.test');
  });

  it('notes the producing plugin on the client\'s request', async () => {
    const req = rootRequest();
    await run(deriving({ name: 'web.new.test' }).links, req);
    expect(req.producer).to.equal('hosts');
  });

  const bad: { name: string; changes: RequestChanges; message: RegExp }[] = [
    { name: 'an over-long label', changes: { name: `${'x'.repeat(64)}.test` }, message: /empty or over-long label/ },
    { name: 'an empty label', changes: { name: 'a..test' }, message: /empty or over-long label/ },
    { name: 'a name over 253 characters', changes: { name: `${'abcdefghi.'.repeat(26)}test` }, message: /longer than 253/ },
    { name: 'an unknown type', changes: { type: 'NOPE' }, message: /unknown record type 'NOPE'/ },
    { name: 'an unknown class', changes: { class: 'XX' }, message: /unknown class 'XX'/ },
  ];
  for (const row of bad) {
    it(`${row.name} is an error of the deriving plugin (the server answers SERVFAIL)`, async () => {
      const req = rootRequest();
      const { links, seen } = deriving(row.changes);
      let caught: unknown;
      try {
        await run(links, req);
      } catch (err) {
        caught = err;
      }
      expect(caught).to.be.instanceOf(DnsError);
      expect((caught as DnsError).rcode).to.equal(2);
      expect((caught as Error).message).to.match(row.message);
      expect(errorPlugin(caught)).to.equal('rewrite');
      expect(seen).to.have.length(0);
    });
  }
});

describe('chain: derived EDNS', () => {
  const ecs = { code: EdnsCode.ClientSubnet, data: Uint8Array.from([0, 1, 24, 0, 10, 0, 0]) };
  const cookie = { code: EdnsCode.Cookie, data: Uint8Array.from([1, 2, 3, 4, 5, 6, 7, 8]) };

  it('ednsOptions replace the options the rest of the chain sees (and the query it would forward)', async () => {
    const req = rootRequest('a.test', 'A', makeQuery('a.test', 'A', { edns: { udpSize: 4096, do: true, version: 0, options: [cookie] } }));
    expect(req.ednsOptions).to.deep.equal([cookie]);
    const { links, seen } = deriving({ ednsOptions: [cookie, ecs] });
    await run(links, req);
    const d = seen[0]!;
    expect(d.ednsOptions).to.deep.equal([cookie, ecs]);
    expect(d.query.edns).to.deep.include({ udpSize: 4096, do: true, options: [cookie, ecs] });
    expect(req.ednsOptions).to.deep.equal([cookie]);
  });

  it('options on a query without EDNS give the derived query an OPT (the client still gets none)', async () => {
    const req = rootRequest('a.test');
    const { links, seen } = deriving({ ednsOptions: [ecs] });
    await run(links, req);
    expect(seen[0]!.edns).to.equal(true);
    expect(seen[0]!.ednsOptions).to.deep.equal([ecs]);
    expect(req.edns).to.equal(false);
    expect(req.ednsOptions).to.deep.equal([]);
  });

  const sizes = [
    { name: 'lowers the buffer size and the UDP answer limit', edns: true, udpSize: 1000, want: 1000, limit: 1000 },
    { name: 'keeps at least 512', edns: true, udpSize: 100, want: 512, limit: 512 },
    { name: 'does nothing for a query without EDNS', edns: false, udpSize: 1000, want: 512, limit: undefined },
  ];
  for (const row of sizes) {
    it(`udpSize ${row.name}`, async () => {
      const query = makeQuery('a.test', 'A', row.edns ? { edns: { udpSize: 4096, do: false, version: 0 } } : {});
      const req = rootRequest('a.test', 'A', query);
      const { links, seen } = deriving({ udpSize: row.udpSize });
      await run(links, req);
      expect(seen[0]!.udpSize).to.equal(row.want);
      expect(req.replyUdpSize).to.equal(row.limit);
    });
  }
});

describe('chain: an unused feature costs nothing', () => {
  it('a QueryRequest makes no metadata until asked, and reads options from the query', () => {
    const req = rootRequest();
    expect(req.ednsOptions).to.have.length(0);
    expect(req.ednsOptions).to.equal(rootRequest().ednsOptions, 'one shared empty list');
    expect(req.awaitsFinish).to.equal(false);
  });

  it('handlers without serve are skipped', async () => {
    const links: ChainLink[] = [
      { name: 'health', handler: {} as Handler },
      { name: 'echo', handler: { serve: (r) => makeReply(r.query, { rcode: 5 }) } },
    ];
    const reply = (await run(links, rootRequest())) as Message;
    expect(reply.rcode).to.equal(5);
  });
});
