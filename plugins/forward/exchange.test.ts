import { expect } from 'chai';
import { makeQuery } from '../../core/message.js';
import { encodeMessage } from '../../core/wire.js';
import { spoofEntropy } from './entropy.js';
import { acceptReply, caseBits, ExchangeError, isReplyTo, randomizeCase, withId } from './exchange.js';
import { questionEnd } from '../../core/wire.js';

const queryOf = (name: string, type = 'A') => encodeMessage(makeQuery(name, type, { id: 0x1234 }));
/** A reply to `sent`: same bytes with QR set and no records (the question echoed as is). */
const echo = (sent: Uint8Array) => {
  const r = Buffer.from(sent.subarray(0, questionEnd(sent)));
  r[2]! |= 0x80;
  r.writeUInt16BE(0, 10);
  return r;
};

describe('forward exchange: 0x20, reply matching and acceptance', () => {
  it('randomizeCase gives each letter a random case and leaves everything else alone', () => {
    const query = queryOf('www-1.example.test');
    let upper = 0;
    let letters = 0;
    const seen = new Set<string>();
    for (let i = 0; i < 200; i++) {
      const w = withId(query, 7);
      randomizeCase(w, 0);
      const name = w.toString('latin1', 12, questionEnd(query) - 4);
      expect(name.toLowerCase()).to.equal(query.toString('latin1', 12, questionEnd(query) - 4));
      expect(w.subarray(questionEnd(query) - 4)).to.deep.equal(query.subarray(questionEnd(query) - 4));
      expect(w.readUInt16BE(0)).to.equal(7);
      seen.add(name);
      for (const c of name) {
        if (/[a-z]/i.test(c)) letters++;
        if (/[A-Z]/.test(c)) upper++;
      }
    }
    // 14 letters: 200 draws collide about once (birthday odds over 2^14 cases); about half the letters upper-case.
    expect(seen.size).to.be.at.least(190);
    expect(upper / letters).to.be.within(0.45, 0.55);
    expect(caseBits(query)).to.equal(14);
  });

  it('randomizeCase works at an offset (a TCP frame) and on names without letters', () => {
    const q = queryOf('1.2.3.4.in-addr.arpa', 'PTR');
    const frame = withId(q, 1, 2);
    randomizeCase(frame, 2);
    expect(frame.subarray(2).toString('latin1').toLowerCase()).to.equal(withId(q, 1).toString('latin1').toLowerCase());
    const digits = queryOf('1.2.3');
    const w = withId(digits, 1);
    randomizeCase(w, 0);
    expect(w).to.deep.equal(withId(digits, 1));
  });

  const sent = withId(queryOf('Victim.Example.test'), 0xbeef);
  const qend = questionEnd(sent);
  const mutated = (f: (b: Buffer) => void) => {
    const b = echo(sent);
    f(b);
    return b;
  };
  const rows: { name: string; reply: Buffer; exact: boolean; caseless: boolean }[] = [
    { name: 'the question echoed byte for byte', reply: echo(sent), exact: true, caseless: true },
    { name: 'the name in another case', reply: mutated((b) => (b[13] = 0x76)), exact: false, caseless: true },
    { name: 'another ID', reply: mutated((b) => (b[1] ^= 1)), exact: false, caseless: false },
    { name: 'not a response (QR 0)', reply: mutated((b) => (b[2] &= 0x7f)), exact: false, caseless: false },
    { name: 'another opcode', reply: mutated((b) => (b[2] |= 0x10)), exact: false, caseless: false },
    { name: 'two questions', reply: mutated((b) => (b[5] = 2)), exact: false, caseless: false },
    { name: 'another type', reply: mutated((b) => (b[qend - 3] = 28)), exact: false, caseless: false },
    { name: 'another class', reply: mutated((b) => (b[qend - 1] = 3)), exact: false, caseless: false },
    { name: 'another name (a digit for a letter)', reply: mutated((b) => (b[13] = 0x31)), exact: false, caseless: false },
    { name: 'cut inside the question', reply: echo(sent).subarray(0, qend - 1), exact: false, caseless: false },
  ];
  for (const r of rows) {
    it(`isReplyTo: ${r.name} is ${r.exact ? '' : 'not '}ours with 0x20, ${r.caseless ? '' : 'not '}ours without`, () => {
      expect(isReplyTo(r.reply, sent, qend, true)).to.equal(r.exact);
      expect(isReplyTo(r.reply, sent, qend, false)).to.equal(r.caseless);
    });
  }

  it('acceptReply writes the client\'s case back, and turns a malformed reply into an EMALFORMED error', () => {
    const client = queryOf('Victim.Example.test');
    const out = withId(client, 9);
    randomizeCase(out, 0);
    const ok = acceptReply(echo(out), client, qend);
    expect(ok).to.be.instanceOf(Buffer);
    expect((ok as Buffer).toString('latin1', 12, qend)).to.equal(client.toString('latin1', 12, qend));
    const bad = Buffer.concat([echo(out), Buffer.from([0xc0])]);
    const err = acceptReply(bad, client, qend);
    expect(err).to.be.instanceOf(ExchangeError);
    expect((err as ExchangeError).code).to.equal('EMALFORMED');
  });

  it('acceptReply keeps a truncated (TC) reply cut inside a record as its header and question', () => {
    const client = queryOf('big.example.test', 'TXT');
    const end = questionEnd(client);
    const cut = Buffer.concat([echo(client), Buffer.from([0xc0, 12, 0, 16, 0, 1, 0, 0, 0, 60, 1, 0, 255, 97])]);
    cut.writeUInt16BE(1, 6);
    cut[2]! |= 0x02;
    const ok = acceptReply(Buffer.from(cut), client, end);
    expect(ok).to.be.instanceOf(Buffer);
    expect((ok as Buffer).length).to.equal(end);
    expect([...(ok as Buffer).subarray(4, 12)]).to.deep.equal([0, 1, 0, 0, 0, 0, 0, 0]);
    cut[2]! &= ~0x02; // the same bytes without TC are malformed
    expect(acceptReply(cut, client, end)).to.be.instanceOf(ExchangeError);
  });

  it('spoofEntropy: 16 bits of ID, the port range or the slot choice, one bit per letter with 0x20', () => {
    const e = spoofEntropy({ qname: 'www.example.com', randomizeCase: true, sockets: 64, portRange: [32768, 60999] });
    expect(e).to.include({ id: 16, portSeen: 6, case: 13 });
    expect(e.port).to.be.closeTo(14.79, 0.01);
    expect(e.blind).to.be.closeTo(16 + 14.79 + 13, 0.01);
    expect(e.portsSeen).to.equal(16 + 6 + 13);
    const off = spoofEntropy({ qname: 'www.example.com', randomizeCase: false, sockets: 4, portRange: [32768, 60999] });
    expect(off.portsSeen).to.equal(18); // the figure for 4 long-lived sockets
  });
});
