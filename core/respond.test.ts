// The finishing step: whatever a plugin returns, the client gets its own ID, flags and question,
// our OPT (with the reply's EDNS options) only if it sent EDNS, and a UDP answer that fits.
import { expect } from 'chai';
import { EdeCode, EdnsCode, extendedErrors, withEdnsOption, withExtendedError } from './edns.js';
import { decodeMessage, makeQuery, makeReply, WireReply, type Message, type Reply } from './message.js';
import { finishReply, type ReplyTarget } from './respond.js';
import { rr } from './testing.js';
import { encodeMessage, parseQuery } from './wire.js';

const nsid = { code: EdnsCode.NSID, data: Buffer.from('node-1') };

function target(query: Message, maxSize = 1232): ReplyTarget {
  const queryWire = encodeMessage(query);
  return { query, queryWire, questionEnd: parseQuery(queryWire)?.questionEnd, maxSize, ednsSize: 1232 };
}

const withEdns = makeQuery('Web.Old.Test', 'A', { id: 4321, edns: { udpSize: 4096, do: true, version: 0 } });
const withoutEdns = makeQuery('Web.Old.Test', 'A', { id: 4321 });

/** The reply a plugin might give to a derived request for web.new.test (its own ID and question). */
function derivedMessage(): Message {
  const q = makeQuery('web.new.test', 'A', { id: 9 });
  return makeReply(q, { answer: [rr`web.old.test. 30 IN A 10.0.0.1`] });
}
function derivedWire(extra?: Message['edns']): WireReply {
  return new WireReply(encodeMessage({ ...derivedMessage(), ...(extra ? { edns: extra } : {}) }));
}

describe('respond: the client\'s own question, whatever the plugin answered', () => {
  const rows: { name: string; reply: () => Reply }[] = [
    { name: 'a Message for another question', reply: derivedMessage },
    { name: 'wire bytes for another question', reply: () => derivedWire() },
    { name: 'wire bytes for another question, with an upstream OPT', reply: () => derivedWire({ udpSize: 512, do: false, version: 0, options: [{ code: EdnsCode.Cookie, data: Buffer.alloc(8, 1) }] }) },
    { name: 'wire bytes for the same question in other case', reply: () => new WireReply(encodeMessage(makeReply(makeQuery('web.old.test', 'A', { id: 1 }), { answer: [rr`web.old.test. 30 IN A 10.0.0.1`] }))) },
  ];
  for (const row of rows) {
    it(`${row.name}: ID ${withEdns.id}, question 'Web.Old.Test', answer kept, our OPT only`, () => {
      const out = decodeMessage(finishReply(row.reply(), target(withEdns)).wire);
      expect(out.id).to.equal(4321);
      expect(out.qr).to.equal(true);
      expect(out.question).to.deep.equal([{ name: 'Web.Old.Test', type: 'A', class: 'IN' }]);
      // The answer's owner points at the question, so it reads in the client's case.
      expect(out.answer.map((a) => ({ ...a, name: a.name.toLowerCase() }))).to.deep.equal([rr`web.old.test. 30 IN A 10.0.0.1`]);
      expect(out.edns).to.deep.include({ udpSize: 1232, do: true, options: [] });
    });
  }
});

describe('respond: EDNS options of a reply', () => {
  const replies: { name: string; reply: () => Reply }[] = [
    { name: 'a Message', reply: () => withEdnsOption(makeReply(withEdns), nsid) },
    { name: 'a WireReply', reply: () => withEdnsOption(new WireReply(encodeMessage(makeReply(withEdns))), nsid) },
    { name: 'a WireReply with an upstream OPT', reply: () => withEdnsOption(new WireReply(encodeMessage({ ...makeReply(withEdns), edns: { udpSize: 512, do: false, version: 0, options: [{ code: EdnsCode.Padding, data: Buffer.alloc(4) }] } })), nsid) },
    { name: 'a WireReply for another question', reply: () => withEdnsOption(derivedWire(), nsid) },
  ];
  for (const row of replies) {
    it(`${row.name}: reach a client that sent EDNS`, () => {
      const out = decodeMessage(finishReply(row.reply(), target(withEdns)).wire);
      expect(out.edns?.options).to.deep.equal([{ code: 3, data: Buffer.from('node-1') }]);
    });
    it(`${row.name}: are not sent to a client without EDNS`, () => {
      const out = decodeMessage(finishReply(row.reply(), target(withoutEdns)).wire);
      expect(out.edns).to.equal(undefined);
    });
  }

  it('an Extended DNS Error keeps its info code and text, after other options', () => {
    const reply = withExtendedError(withEdnsOption(makeReply(withEdns), nsid), EdeCode.StaleAnswer, 'served from cache');
    const out = decodeMessage(finishReply(reply, target(withEdns)).wire);
    expect(out.edns?.options?.map((o) => o.code)).to.deep.equal([3, 15]);
    expect(extendedErrors(out.edns?.options)).to.deep.equal([{ infoCode: 3, extraText: 'served from cache' }]);
  });

  it('withEdnsOption leaves the reply it was given alone', () => {
    const reply = makeReply(withEdns);
    withEdnsOption(reply, nsid);
    expect(reply.edns).to.equal(undefined);
    const wire = new WireReply(encodeMessage(reply));
    const added = withEdnsOption(wire, nsid) as WireReply;
    expect(wire.options).to.equal(undefined);
    expect(added.message().edns?.options).to.deep.equal([nsid]);
  });

  it('a wire reply that must shrink is re-encoded with its options', () => {
    const answer = Array.from({ length: 60 }, (_, i) => rr(`web.old.test. 30 IN A 10.0.${i}.1`));
    const reply = withExtendedError(new WireReply(encodeMessage(makeReply(withEdns, { answer }))), EdeCode.StaleAnswer);
    const out = finishReply(reply, target(withEdns, 512));
    expect(out.wire.length).to.be.at.most(512);
    expect(out.truncated).to.equal(true);
    expect(extendedErrors(decodeMessage(out.wire).edns?.options)).to.deep.equal([{ infoCode: 3, extraText: '' }]);
  });
});

describe('wire: EDNS options on the fast query path', () => {
  const ecs = { code: EdnsCode.ClientSubnet, data: Buffer.from([0, 1, 24, 0, 192, 0, 2]) };
  const cookie = { code: EdnsCode.Cookie, data: Buffer.from('01234567') };
  const rows = [
    { name: 'no options', options: [], want: undefined },
    { name: 'one ECS option', options: [ecs], want: [ecs] },
    { name: 'ECS and a cookie', options: [ecs, cookie], want: [ecs, cookie] },
    { name: 'an empty option', options: [{ code: 12, data: Buffer.alloc(0) }], want: [{ code: 12, data: Buffer.alloc(0) }] },
  ];
  for (const row of rows) {
    it(`decodes ${row.name}`, () => {
      const wire = encodeMessage(makeQuery('a.test', 'A', { edns: { udpSize: 1232, do: false, version: 0, options: row.options } }));
      const parsed = parseQuery(wire);
      expect(parsed, 'stays on the fast path').to.not.equal(undefined);
      expect(parsed!.edns?.options).to.deep.equal(row.want);
    });
  }

  it('falls back to the full decoder when an option runs past the OPT', () => {
    const wire = Buffer.from(encodeMessage(makeQuery('a.test', 'A', { edns: { udpSize: 1232, do: false, version: 0, options: [ecs] } })));
    wire.writeUInt16BE(50, wire.length - ecs.data.length - 2); // the option's length: past the end
    expect(parseQuery(wire)).to.equal(undefined);
  });
});
