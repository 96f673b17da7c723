import { expect } from 'chai';
import dnsPacket from 'dns-packet';
import { decodeMessage, makeQuery, makeReply, type ResourceRecord } from './message.js';
import { rr } from './testing.js';
import { checkHeader, encodeMessage, HeaderCheck, parseQuery, scanMessage } from './wire.js';

describe('wire: the compressing encoder', () => {
  const query = makeQuery('web.example.org', 'A', { id: 42 });

  it('fits 10 A records for one owner in at most 220 bytes (dns-packet, which does not compress, needs far more)', () => {
    const answer = Array.from({ length: 10 }, (_, i) => rr(`web.example.org. 30 IN A 10.0.0.${i}`));
    const wire = encodeMessage(makeReply(query, { answer }));
    expect(wire.length).to.be.at.most(220);
    const uncompressed = dnsPacket.encode({ id: 42, type: 'response', questions: [{ name: 'web.example.org', type: 'A' }], answers: answer.map((a) => ({ name: a.name, ttl: a.ttl, type: 'A' as const, data: a.data as string })) });
    expect(uncompressed.length).to.be.above(wire.length + 120);
  });

  const records: { name: string; record: ResourceRecord }[] = [
    { name: 'A', record: rr`a.example.org. 30 IN A 192.0.2.1` },
    { name: 'AAAA', record: rr`a.example.org. 30 IN AAAA 2001:db8::1` },
    { name: 'AAAA with an IPv4 tail', record: rr`a.example.org. 30 IN AAAA ::ffff:192.0.2.1` },
    { name: 'CNAME', record: rr`a.example.org. 30 IN CNAME b.example.org.` },
    { name: 'PTR', record: rr`1.2.0.192.in-addr.arpa. 30 IN PTR a.example.org.` },
    { name: 'SRV', record: rr`_http._tcp.example.org. 30 IN SRV 0 50 80 a.example.org.` },
    { name: 'MX', record: rr`example.org. 30 IN MX 10 mail.example.org.` },
    { name: 'TXT', record: rr`example.org. 30 IN TXT "v=spf1 -all" "second"` },
    { name: 'SOA', record: rr`example.org. 30 IN SOA ns.example.org. hostmaster.example.org. 7 7200 1800 86400 5` },
    { name: 'HINFO', record: rr`example.org. 30 IN HINFO "cpu" "os"` },
  ];
  for (const row of records) {
    it(`round-trips ${row.name} through dns-packet's decoder`, () => {
      const wire = encodeMessage(makeReply(query, { answer: [row.record] }));
      const back = decodeMessage(wire);
      const want = row.record.type === 'AAAA' && row.record.data.includes('.') ? { ...row.record, data: '::ffff:c000:201' } : row.record;
      expect(back.answer).to.deep.equal([want]);
    });
  }

  it('splits a TXT string longer than 255 bytes into character-strings', () => {
    const long = 'x'.repeat(600);
    const back = decodeMessage(encodeMessage(makeReply(query, { answer: [{ name: 'example.org', ttl: 1, type: 'TXT', data: [long] }] })));
    expect(back.answer[0]!.data).to.deep.equal(['x'.repeat(255), 'x'.repeat(255), 'x'.repeat(90)]);
  });

  it('drops what does not fit in maxSize and sets TC when an answer was cut', () => {
    const answer = Array.from({ length: 100 }, (_, i) => rr(`web.example.org. 30 IN A 10.0.${i >> 8}.${i & 255}`));
    const wire = encodeMessage(makeReply(query, { answer }), { maxSize: 512 });
    expect(wire.length).to.be.at.most(512);
    const back = decodeMessage(wire);
    expect(back.tc).to.equal(true);
    expect(back.answer.length).to.be.within(20, 99);
  });

  // miekg/dns's TestRequestTruncateExtra: CoreDNS's Truncate sets TC when any record is left out, glue too.
  it('sets TC when only the additional section was cut, as miekg/dns does', () => {
    const additional = Array.from({ length: 100 }, (_, i) => rr(`h${i}.example.org. 30 IN A 10.0.0.1`));
    const back = decodeMessage(encodeMessage(makeReply(query, { answer: [rr`web.example.org. 30 IN A 10.0.0.1`], additional }), { maxSize: 512 }));
    expect(back.tc).to.equal(true);
    expect(back.answer).to.have.length(1);
  });

  it('keeps the OPT record and the extended rcode within maxSize', () => {
    const q = makeQuery('a.example.org', 'A', { edns: { udpSize: 1232, do: true, version: 0 } });
    const back = decodeMessage(encodeMessage({ ...makeReply(q, { rcode: 16 }), edns: { udpSize: 1232, do: true, version: 0 } }, { maxSize: 512 }));
    expect(back.edns).to.deep.include({ udpSize: 1232, do: true });
    expect(back.rcode).to.equal(16);
  });

  it('records the offset of every TTL for the cache', () => {
    const ttlOffsets: number[] = [];
    const wire = encodeMessage(makeReply(query, { answer: [rr`a.example.org. 30 IN A 192.0.2.1`, rr`a.example.org. 40 IN A 192.0.2.2`] }), { ttlOffsets });
    expect(ttlOffsets.map((o) => wire.readUInt32BE(o))).to.deep.equal([30, 40]);
    expect(scanMessage(wire).ttlOffsets).to.deep.equal(ttlOffsets);
  });
});

describe('wire: reading queries', () => {
  const rows = [
    { name: 'a 5-byte datagram', wire: Buffer.from([1, 2, 3, 4, 5]), want: HeaderCheck.Drop },
    { name: 'a response', wire: dnsPacket.encode({ type: 'response', id: 1, questions: [{ name: 'a.b', type: 'A' }] }), want: HeaderCheck.Drop },
    { name: 'two questions', wire: dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }, { name: 'c.d', type: 'A' }] }), want: HeaderCheck.FormErr },
    { name: 'no question', wire: dnsPacket.encode({ type: 'query', id: 1, questions: [] }), want: HeaderCheck.FormErr },
    { name: 'a plain query', wire: dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }] }), want: HeaderCheck.Ok },
  ];
  for (const row of rows) it(`checkHeader: ${row.name}`, () => expect(checkHeader(row.wire)).to.equal(row.want));

  it('parses the question and the OPT of a common query without a full decode', () => {
    const wire = dnsPacket.encode({
      type: 'query', id: 77, flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'Db.Default.svc.cluster.local', type: 'SRV' }],
      additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 4096, flags: dnsPacket.DNSSEC_OK } as dnsPacket.Answer],
    });
    expect(parseQuery(wire)).to.deep.include({ id: 77, qname: 'Db.Default.svc.cluster.local', lower: 'db.default.svc.cluster.local', qtype: 33, qclass: 1, edns: { udpSize: 4096, version: 0, do: true } });
  });

  // The name is built in a scratch buffer shared by every call: each result must own its strings.
  const names = [
    { name: 'a plain lower-case name', qname: 'svc.ns.svc.cluster.local', lower: 'svc.ns.svc.cluster.local' },
    { name: 'mixed case (0x20)', qname: 'sVc.NS.svc.Cluster.local', lower: 'svc.ns.svc.cluster.local' },
    { name: 'one label', qname: 'LOCALHOST', lower: 'localhost' },
    { name: 'the root', qname: '', lower: '' },
    { name: 'digits, dash, underscore and other printable bytes kept', qname: '_Http._tcp.A-1~!', lower: '_http._tcp.a-1~!' },
    { name: '253 characters, the longest name', qname: Array.from({ length: 4 }, () => 'A'.repeat(62)).join('.') + '.b', lower: Array.from({ length: 4 }, () => 'a'.repeat(62)).join('.') + '.b' },
  ];
  for (const row of names) {
    it(`parseQuery names: ${row.name}`, () => {
      const wire = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: row.qname || '.', type: 'A' }] });
      const first = parseQuery(wire);
      parseQuery(dnsPacket.encode({ type: 'query', id: 2, questions: [{ name: 'zzzzzzzzzzzzzzzzzzzzzzzzzzzzzz.zz', type: 'A' }] }));
      expect(first).to.deep.include({ qname: row.qname, lower: row.lower });
    });
  }

  it('leaves a name longer than 253 characters to the full decoder', () => {
    const wire = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'x.y', type: 'A' }] });
    const labels = Buffer.concat([...Array.from({ length: 4 }, () => Buffer.concat([Buffer.from([62]), Buffer.alloc(62, 0x61)])), Buffer.from([2, 0x62, 0x62, 0])]);
    const long = Buffer.concat([wire.subarray(0, 12), labels, wire.subarray(wire.length - 4)]);
    expect(parseQuery(long)).to.equal(undefined);
  });

  it('leaves anything unusual to the full decoder', () => {
    const escaped = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }] });
    escaped[13] = 0x2e; // a '.' inside a label
    expect(parseQuery(escaped)).to.equal(undefined);
    const withAnswer = dnsPacket.encode({ type: 'query', id: 1, questions: [{ name: 'a.b', type: 'A' }], answers: [{ name: 'a.b', type: 'A', data: '1.2.3.4' }] });
    expect(parseQuery(withAnswer)).to.equal(undefined);
  });

  it('scans out the SOA minimum of a negative answer', () => {
    const wire = encodeMessage(makeReply(makeQuery('x.example.org'), { rcode: 3, authority: [rr`example.org. 60 IN SOA ns.example.org. h.example.org. 1 2 3 4 30`] }));
    expect(scanMessage(wire)).to.deep.include({ rcode: 3, soa: { ttl: 60, minimum: 30 } });
  });

  it('rejects records that run past the end', () => {
    const wire = encodeMessage(makeReply(makeQuery('x.example.org'), { answer: [rr`x.example.org. 60 IN A 1.2.3.4`] }));
    expect(() => scanMessage(wire.subarray(0, wire.length - 2))).to.throw(RangeError);
  });
});
