import { expect } from 'chai';
import { makeQuery, makeReply } from './message.js';
import { rr } from './testing.js';
import { encodeMessage } from './wire.js';
import { checkMessage } from './wire-check.js';

/** A raw message: flags 0x8180, the counts, then the bytes as given. */
function raw(counts: [number, number, number, number], ...parts: (number[] | Buffer)[]): Buffer {
  const head = Buffer.alloc(12);
  head.writeUInt16BE(0x1234, 0);
  head.writeUInt16BE(0x8180, 2);
  counts.forEach((c, i) => head.writeUInt16BE(c, 4 + 2 * i));
  return Buffer.concat([head, ...parts.map((p) => Buffer.from(p))]);
}

// www.example.test IN A, at offset 12 (the question ends at 34)
const Q = [3, 119, 119, 119, 7, 101, 120, 97, 109, 112, 108, 101, 4, 116, 101, 115, 116, 0, 0, 1, 0, 1];
const A_AT_Q = [0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 10, 0, 0, 1];
const rrHead = (type: number, rdlen: number) => [0, type, 0, 1, 0, 0, 0, 60, rdlen >> 8, rdlen & 0xff];

const good = encodeMessage(makeReply(makeQuery('www.example.test'), {
  answer: [rr`www.example.test. 60 IN CNAME web.example.test.`, rr`web.example.test. 60 IN A 10.0.0.1`, rr`web.example.test. 60 IN AAAA 2001:db8::1`],
  authority: [rr`example.test. 60 IN SOA ns.example.test. host.example.test. 1 2 3 4 5`, rr`example.test. 60 IN NS ns.example.test.`],
  additional: [rr`_s._tcp.example.test. 60 IN SRV 0 0 53 ns.example.test.`, rr`example.test. 60 IN MX 10 mx.example.test.`, rr`example.test. 60 IN TXT "a" "bc"`],
}));
const withOpt = encodeMessage({ ...makeReply(makeQuery('www.example.test'), { answer: [rr`www.example.test. 60 IN A 10.0.0.1`] }), edns: { udpSize: 1232, do: true, version: 0, options: [{ code: 10, data: Buffer.alloc(8) }] } });

describe('checkMessage (strict checks of an untrusted message)', () => {
  const cases: { name: string; msg: Buffer; want: RegExp | undefined }[] = [
    { name: 'a compressed reply with every common type', msg: good, want: undefined },
    { name: 'an OPT with an option', msg: withOpt, want: undefined },
    { name: 'a question-only reply', msg: raw([1, 0, 0, 0], Q), want: undefined },
    { name: 'an answer pointing at the question', msg: raw([1, 1, 0, 0], Q, A_AT_Q), want: undefined },
    { name: 'shorter than a header', msg: Buffer.alloc(11), want: /header/ },
    { name: 'a pointer to itself (a loop)', msg: raw([1, 1, 0, 0], Q, [0xc0, 34], A_AT_Q.slice(2)), want: /backwards/ },
    { name: 'a label, then a pointer back to its own start (a loop)', msg: raw([1, 1, 0, 0], Q, [1, 97, 0xc0, 34], A_AT_Q.slice(2)), want: /backwards/ },
    { name: 'a pointer forwards', msg: raw([1, 1, 0, 0], Q, [0xc0, 40], A_AT_Q.slice(2), [0]), want: /backwards/ },
    { name: 'a pointer into the header', msg: raw([1, 1, 0, 0], Q, [0xc0, 4], A_AT_Q.slice(2)), want: /backwards/ },
    { name: 'a pointer cut in half at the end', msg: raw([1, 1, 0, 0], Q, [0xc0]), want: /runs past/ },
    { name: 'a CNAME whose target loops', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(5, 4), [1, 97, 0xc0, 46]), want: /backwards/ },
    { name: 'a CNAME with bytes after its target', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(5, 3), [0xc0, 12, 7]), want: /after its name/ },
    { name: 'a label of an unknown type (0x40)', msg: raw([1, 1, 0, 0], Q, [0x41, 97], A_AT_Q.slice(2)), want: /label/ },
    { name: 'a name longer than 255 bytes', msg: raw([1, 0, 0, 0], ...Array.from({ length: 5 }, () => [63, ...Buffer.alloc(63, 97)]), [0, 0, 1, 0, 1]), want: /255/ },
    { name: 'a count saying one more record than there is', msg: raw([1, 2, 0, 0], Q, A_AT_Q), want: /runs past/ },
    { name: 'a count saying one record fewer than there are', msg: raw([1, 1, 0, 0], Q, A_AT_Q, A_AT_Q), want: /after the last record/ },
    { name: 'trailing garbage', msg: raw([1, 1, 0, 0], Q, A_AT_Q, [1, 2, 3]), want: /after the last record/ },
    { name: 'a truncated record', msg: raw([1, 1, 0, 0], Q, A_AT_Q.slice(0, -2)), want: /runs past/ },
    { name: 'a record cut inside its header', msg: raw([1, 1, 0, 0], Q, A_AT_Q.slice(0, 8)), want: /runs past/ },
    { name: 'a truncated question', msg: raw([1, 0, 0, 0], Q.slice(0, -2)), want: /question runs past/ },
    { name: 'an A record of 5 bytes', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(1, 5), [10, 0, 0, 1, 9]), want: /A record/ },
    { name: 'an AAAA record of 4 bytes', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(28, 4), [10, 0, 0, 1]), want: /AAAA/ },
    { name: 'an SOA one byte short', msg: raw([1, 0, 1, 0], Q, [0xc0, 12], rrHead(6, 23), [0xc0, 12, 0xc0, 12], Buffer.alloc(19)), want: /SOA/ },
    { name: 'a TXT string running past its record', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(16, 3), [5, 97, 98]), want: /TXT/ },
    { name: 'an MX without a name', msg: raw([1, 1, 0, 0], Q, [0xc0, 12], rrHead(15, 2), [0, 10]), want: /MX/ },
    { name: 'an OPT in the answer section', msg: raw([1, 1, 0, 0], Q, [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]), want: /OPT/ },
    { name: 'two OPT records', msg: raw([1, 0, 0, 2], Q, [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0], [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 0]), want: /OPT/ },
    { name: 'an EDNS option running past the OPT', msg: raw([1, 0, 0, 1], Q, [0, 0, 41, 4, 0xd0, 0, 0, 0, 0, 0, 5, 0, 10, 0, 8, 1]), want: /EDNS option/ },
  ];
  for (const c of cases) {
    it(`${c.want ? 'rejects' : 'accepts'} ${c.name}`, () => {
      const why = checkMessage(c.msg);
      if (c.want) expect(why).to.match(c.want);
      else expect(why).to.equal(undefined);
    });
  }

  it('never throws on random bytes or on every truncation of a good message', () => {
    for (let n = 0; n < good.length; n++) expect(checkMessage(good.subarray(0, n))).to.be.a('string');
    for (let i = 0; i < 500; i++) {
      const b = Buffer.from(good);
      for (let k = 0; k < 3; k++) b[12 + Math.floor(Math.random() * (b.length - 12))] = Math.floor(Math.random() * 256);
      expect(() => checkMessage(b)).not.to.throw();
    }
  });
});
