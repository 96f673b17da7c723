import { expect } from 'chai';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { makeReply, messageOf, WireReply, type Message, type ResourceRecord } from '../../core/message.js';
import { makeRequest, rr, rrText, startServer, stubNext } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { balance, serveLoadbalance } from './loadbalance.js';
import { roundRobin } from './shuffle.js';
import { configErrorOf } from '../../core/testing.js';

/** A fixed sequence of "random" numbers, repeating. */
const seq = (...values: number[]) => {
  let i = 0;
  return () => values[i++ % values.length]!;
};
const names = (rs: readonly ResourceRecord[]) => rs.map(rrText);

describe('loadbalance: roundRobin', () => {
  const A = [rr`a. 5 IN A 10.0.0.1`, rr`a. 5 IN A 10.0.0.2`, rr`a. 5 IN A 10.0.0.3`];
  const cases: { name: string; input: ResourceRecord[]; random: () => number; want: ResourceRecord[] }[] = [
    { name: 'two addresses swap on an even draw', input: A.slice(0, 2), random: seq(0), want: [A[1]!, A[0]!] },
    { name: 'two addresses stay on an odd draw', input: A.slice(0, 2), random: seq(1), want: [A[0]!, A[1]!] },
    // j=0: p = 0 + 1 % 3 = 1 → swap 0,1; j=1: p = 1 + 1 % 2 = 2 → swap 1,2; j=2: p = 2.
    { name: 'three addresses: CoreDNS\'s swap walk', input: A, random: seq(1), want: [A[1]!, A[2]!, A[0]!] },
    {
      name: 'CNAMEs first, other types next, then addresses, then MX',
      input: [rr`a. 5 IN A 10.0.0.1`, rr`b. 5 IN MX 10 mx1.`, rr`a. 5 IN CNAME b.`, rr`a. 5 IN TXT "t"`, rr`b. 5 IN MX 20 mx2.`],
      random: seq(1),
      want: [rr`a. 5 IN CNAME b.`, rr`a. 5 IN TXT "t"`, rr`a. 5 IN A 10.0.0.1`, rr`b. 5 IN MX 10 mx1.`, rr`b. 5 IN MX 20 mx2.`],
    },
  ];
  for (const c of cases) {
    it(c.name, () => {
      const before = names(c.input);
      expect(names(roundRobin(c.input, c.random))).to.deep.equal(names(c.want));
      expect(names(c.input), 'input untouched').to.deep.equal(before);
    });
  }

  it('every order of three addresses turns up', () => {
    const seen = new Set<string>();
    for (let i = 0; i < 300; i++) seen.add(roundRobin(A).map((r) => (r as { data: string }).data.slice(-1)).join(''));
    expect([...seen].sort()).to.deep.equal(['123', '132', '213', '231', '312', '321']);
  });
});

describe('loadbalance: handler', () => {
  const make = (q: Message, answer: ResourceRecord[], rcode = 0) => makeReply(q, { answer, rcode });

  it('reorders a reply with two or more addresses into a new message', async () => {
    const req = makeRequest('a', 'A');
    const upstream = make(req.query, [rr`a. 5 IN A 10.0.0.1`, rr`a. 5 IN A 10.0.0.2`]);
    const out = await serveLoadbalance(req, stubNext(req, upstream), seq(0));
    expect(out).to.not.equal(upstream);
    expect(names(messageOf(out).answer)).to.deep.equal(['a. 5 IN A 10.0.0.2', 'a. 5 IN A 10.0.0.1']);
    expect(names(upstream.answer), 'upstream reply untouched').to.deep.equal(['a. 5 IN A 10.0.0.1', 'a. 5 IN A 10.0.0.2']);
  });

  it('stays synchronous when the chain below is', () => {
    const req = makeRequest('a', 'A');
    const out = serveLoadbalance(req, stubNext(req, make(req.query, [rr`a. 5 IN A 10.0.0.1`])));
    expect(out).to.not.be.instanceOf(Promise);
  });

  const untouched: { name: string; reply: (q: Message) => ReturnType<typeof make> | WireReply }[] = [
    { name: 'one address', reply: (q) => make(q, [rr`a. 5 IN CNAME b.`, rr`b. 5 IN A 10.0.0.1`]) },
    { name: 'an error reply', reply: (q) => make(q, [rr`a. 5 IN A 10.0.0.1`, rr`a. 5 IN A 10.0.0.2`], 2) },
    { name: 'no addresses', reply: (q) => make(q, [rr`a. 5 IN TXT "x"`, rr`a. 5 IN TXT "y"`]) },
    { name: 'a wire reply with one record', reply: (q) => new WireReply(encodeMessage(make(q, [rr`a. 5 IN A 10.0.0.1`]))) },
  ];
  for (const c of untouched) {
    it(`returns the same object for ${c.name}`, () => {
      const req = makeRequest('a', 'A');
      const reply = c.reply(req.query);
      expect(balance(reply, 'A')).to.equal(reply);
    });
  }

  it('decodes and reorders a wire reply', () => {
    const req = makeRequest('a', 'A');
    const wire = new WireReply(encodeMessage(make(req.query, [rr`a. 5 IN A 10.0.0.1`, rr`a. 5 IN A 10.0.0.2`])));
    const out = balance(wire, 'A', seq(0));
    expect(out).to.not.equal(wire);
    expect(names(messageOf(out).answer)).to.deep.equal(['a. 5 IN A 10.0.0.2', 'a. 5 IN A 10.0.0.1']);
  });
});

describe('loadbalance: setup', () => {
  const load = (directive: string): unknown =>
    loadConfigText(`. {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {} })
      .servers[0]!.plugins.find((p) => p.name === 'loadbalance')!.options;

  it('parses loadbalance and loadbalance round_robin', () => {
    expect(load('loadbalance')).to.deep.equal({});
    expect(load('loadbalance round_robin')).to.deep.equal({ policy: 'round_robin' });
  });

  const bad: { corefile: string; col: number; message: RegExp }[] = [
    { corefile: 'loadbalance random', col: 13, message: /unknown policy: random/ },
    { corefile: 'loadbalance weighted /etc/w', col: 13, message: /not supported/ },
    { corefile: 'loadbalance round_robin x', col: 25, message: /wrong argument count/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.corefile}`, () => {
      const ce = configErrorOf(() => load(c.corefile));
      expect(ce.pos).to.include({ line: 2, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }
});

describe('loadbalance: over sockets', () => {
  let srv: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    srv = await startServer('example.org {\n  loadbalance\n  hosts {\n    10.0.0.1 a.example.org\n    10.0.0.2 a.example.org\n    10.0.0.3 a.example.org\n  }\n}\n');
  });
  after(async () => {
    await srv?.close();
  });

  it('answers the same records in changing order', async () => {
    const orders = new Set<string>();
    for (let i = 0; i < 30 && orders.size < 2; i++) {
      const m = await srv.query('a.example.org', 'A');
      expect(m.answer.map((r) => (r as { data: string }).data).sort()).to.deep.equal(['10.0.0.1', '10.0.0.2', '10.0.0.3']);
      orders.add(m.answer.map((r) => (r as { data: string }).data).join(','));
    }
    expect(orders.size).to.be.greaterThan(1);
  });
});
