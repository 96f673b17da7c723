import { expect } from 'chai';
import { decodeMessage, makeQuery, makeReply, WireReply, type Message } from '../../core/message.js';
import { rr } from '../../core/testing.js';
import { encodeMessage } from '../../core/wire.js';
import { roundRobin, type Random } from './shuffle.js';
import { shuffleWire } from './wire-shuffle.js';

/** The same sequence of draws for both paths. */
function seeded(seed: number): Random {
  let x = seed;
  return () => (x = (x * 1103515245 + 12345) & 0x7fffffff) % 65536;
}

function wireReply(m: Message, withLayout = true): WireReply {
  const ends: number[] = [];
  const wire = encodeMessage(m, { recordEnds: ends });
  let q = 12;
  while (wire[q] !== 0) q += wire[q]! + 1;
  return withLayout ? new WireReply(wire, { questionEnd: q + 5, records: { ends, answer: m.answer.length, authority: m.authority.length } }) : new WireReply(wire);
}

const addrs = (owner: string, n: number) => Array.from({ length: n }, (_, i) => (i % 3 === 2 ? rr(`${owner} 30 IN AAAA fd00::${i + 1}`) : rr(`${owner} 30 IN A 10.0.${i >> 8}.${i & 255}`)));
const q = (name: string, type: string) => makeQuery(name, type, { id: 7 });

const cases: { name: string; msg: Message; moves: boolean }[] = [
  { name: 'a headless A answer of 50 addresses', msg: makeReply(q('many.ns.svc.cluster.local', 'A'), { aa: true, answer: addrs('many.ns.svc.cluster.local.', 50) }), moves: true },
  {
    name: 'SRV answers with address glue',
    msg: makeReply(q('_http._tcp.many.ns.svc.cluster.local', 'SRV'), {
      aa: true,
      answer: Array.from({ length: 20 }, (_, i) => rr(`_http._tcp.many.ns.svc.cluster.local. 30 IN SRV 0 5 80 pod-${i}.many.ns.svc.cluster.local.`)),
      additional: Array.from({ length: 20 }, (_, i) => rr(`pod-${i}.many.ns.svc.cluster.local. 30 IN A 10.1.0.${i}`)),
    }),
    moves: true,
  },
  { name: 'a CNAME before the addresses (decoded instead)', msg: makeReply(q('x.test', 'A'), { answer: [rr`x.test. 30 IN CNAME y.test.`, ...addrs('y.test.', 5)] }), moves: false },
  { name: 'addresses in two sections (decoded instead)', msg: makeReply(q('x.test', 'A'), { answer: addrs('x.test.', 3), additional: addrs('z.test.', 3) }), moves: false },
];

describe('loadbalance: shuffling a wire reply', () => {
  for (const c of cases) {
    it(`${c.name}: ${c.moves ? 'the same order as the decoded round-robin' : 'left to the decoding path'}`, () => {
      for (const seed of [1, 2, 3]) {
        const moved = shuffleWire(wireReply(c.msg), seeded(seed));
        if (!c.moves) {
          expect(moved).to.equal(undefined);
          continue;
        }
        const r = seeded(seed);
        const want = { ...c.msg, answer: roundRobin(c.msg.answer, r), authority: roundRobin(c.msg.authority, r), additional: roundRobin(c.msg.additional, r) };
        const got = decodeMessage(moved!.wire);
        expect(got.answer).to.deep.equal(decodeMessage(encodeMessage(want)).answer);
        expect(got.additional).to.deep.equal(decodeMessage(encodeMessage(want)).additional);
        // The layout still says where each record ends.
        const again = shuffleWire(moved!, seeded(seed + 10));
        expect(again).to.not.equal(undefined);
        expect(decodeMessage(again!.wire).answer.length).to.equal(c.msg.answer.length);
      }
    });
  }

  it('leaves a reply without record ends to the decoding path', () => {
    expect(shuffleWire(wireReply(cases[0]!.msg, false), seeded(1))).to.equal(undefined);
  });
});

describe('loadbalance: shuffling a wire reply past the compression limit', () => {
  it('moves glue whose owners are written out (past 16 KiB, where names cannot be pointed at), and keeps a dual-stack pair valid', () => {
    const n = 1000;
    const answer = Array.from({ length: n }, (_, i) => rr(`_http._tcp.many.ns.svc.cluster.local. 30 IN SRV 0 1 80 pod-${i}.many.ns.svc.cluster.local.`));
    const additional = Array.from({ length: n }, (_, i) => rr(`pod-${i}.many.ns.svc.cluster.local. 30 IN A 10.1.${i >> 8}.${i & 255}`));
    additional.push(rr`pod-1.many.ns.svc.cluster.local. 30 IN AAAA fd00::1`);
    const msg = makeReply(q('_http._tcp.many.ns.svc.cluster.local', 'SRV'), { aa: true, answer, additional });
    const moved = shuffleWire(wireReply(msg), seeded(5));
    expect(moved).to.not.equal(undefined);
    const r = seeded(5);
    const want = decodeMessage(encodeMessage({ ...msg, additional: roundRobin(msg.additional, r) }));
    expect(decodeMessage(moved!.wire).additional).to.deep.equal(want.additional);
  });
});
