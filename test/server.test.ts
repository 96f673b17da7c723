// The server core over real UDP and TCP sockets on 127.0.0.1: routing, EDNS, truncation, TCP pipelining,
// malformed input and plugin failures.
import { expect } from 'chai';
import dnsPacket from 'dns-packet';
import net from 'node:net';
import { Rcode, type Message } from '../core/index.js';
import { startServer, type TestServer } from '../core/testing.js';
import { testPlugins } from './fixtures/test-plugins.js';

const COREFILE = `
test {
  echo test-block
}
b.test {
  boom
  echo b-block
}
big.example {
  big 40
}
`;

function txt(m: Message): string {
  const rr = m.answer[0];
  return rr?.type === 'TXT' ? rr.data.join('') : '';
}

describe('server over real sockets', () => {
  let s: TestServer;
  before(async () => {
    s = await startServer(COREFILE, { plugins: testPlugins });
  });
  after(() => s.close());

  describe('routing to the longest matching zone', () => {
    const rows = [
      { name: 'x.test', want: 'test-block zone=test' },
      { name: 'test', want: 'test-block zone=test' },
      { name: 'x.b.test', want: 'b-block zone=b.test' },
      { name: 'X.B.TEST', want: 'b-block zone=b.test' },
      { name: 'deep.er.b.test', want: 'b-block zone=b.test' },
      { name: 'xb.test', want: 'test-block zone=test' },
    ];
    for (const transport of ['udp', 'tcp'] as const) {
      for (const row of rows) {
        it(`${row.name} over ${transport} → ${row.want}`, async () => {
          const m = await s.query(row.name, 'TXT', { transport });
          expect(m.rcode).to.equal(Rcode.NOERROR);
          expect(txt(m)).to.equal(row.want);
        });
      }
    }
    it('answers REFUSED outside every zone', async () => {
      const m = await s.query('example.org', 'A');
      expect(m.rcode).to.equal(Rcode.REFUSED);
      expect(m.answer).to.have.length(0);
    });
    it('keeps the question as the client wrote it', async () => {
      const m = await s.query('MiXeD.TeSt', 'TXT');
      expect(m.question[0]!.name).to.equal('MiXeD.TeSt');
    });
  });

  describe('EDNS', () => {
    it('echoes an OPT with our buffer size and the DO bit', async () => {
      const m = await s.query('x.test', 'TXT', { udpSize: 4096, do: true });
      expect(m.edns).to.deep.include({ udpSize: 1232, do: true, version: 0 });
    });
    it('sends no OPT to a client without EDNS', async () => {
      const m = await s.query('x.test', 'TXT');
      expect(m.edns).to.equal(undefined);
    });
    it('answers BADVERS to EDNS version 1', async () => {
      const wire = dnsPacket.encode({
        id: 9, type: 'query', flags: dnsPacket.RECURSION_DESIRED, questions: [{ name: 'x.test', type: 'TXT' }],
        additionals: [{ type: 'OPT', name: '.', udpPayloadSize: 1232, ednsVersion: 1, flags: 0 } as dnsPacket.Answer],
      });
      // BADVERS is 16: the header's rcode is 0 and the OPT's extended rcode carries the 1.
      const reply = dnsPacket.decode((await s.raw(wire))!);
      const opt = reply.additionals!.find((r) => r.type === 'OPT') as dnsPacket.OptAnswer & { extendedRcode: number };
      expect(reply.flags! & 0xf).to.equal(0);
      expect(opt.extendedRcode).to.equal(1);
    });
  });

  describe('truncation', () => {
    it('truncates a UDP answer over 512 bytes for a client without EDNS, with TC=1', async () => {
      const raw = (await s.raw(dnsPacket.encode({ id: 1, type: 'query', questions: [{ name: 'big.example', type: 'A' }] })))!;
      expect(raw.length).to.be.at.most(512);
      const m = dnsPacket.decode(raw);
      expect(m.flags! & dnsPacket.TRUNCATED_RESPONSE).to.not.equal(0);
      expect(m.answers!.length).to.be.below(40);
    });
    it('fits the answer into a larger EDNS buffer without truncating', async () => {
      const m = await s.query('big.example', 'A', { udpSize: 1232 });
      expect(m.tc).to.equal(false);
      expect(m.answer).to.have.length(40);
    });
    it('gives the full answer over TCP', async () => {
      const m = await s.query('big.example', 'A', { transport: 'tcp' });
      expect(m.tc).to.equal(false);
      expect(m.answer).to.have.length(40);
    });
    it('name-compresses answers (40 A records for one owner stay small)', async () => {
      const m = await s.raw(dnsPacket.encode({ id: 2, type: 'query', questions: [{ name: 'big.example', type: 'A' }] }), { transport: 'tcp' });
      // 12 header + 17 question + 40 × (2 pointer + 10 + 4) = 669; uncompressed it would be 1,229.
      expect(m!.length).to.equal(669);
    });
    it('dig retries over TCP after TC and gets all 40 records', async () => {
      const out = await s.dig(['+noedns', '+short', 'big.example', 'A']);
      expect(out.trim().split('\n')).to.have.length(40);
    });
  });

  describe('TCP', () => {
    it('answers pipelined queries on one connection, as they finish', async () => {
      const ids = Array.from({ length: 20 }, (_, i) => 100 + i);
      const frames = ids.map((id) => {
        const q = dnsPacket.encode({ id, type: 'query', questions: [{ name: `q${id}.test`, type: 'TXT' }] });
        const f = Buffer.alloc(2 + q.length);
        f.writeUInt16BE(q.length, 0);
        q.copy(f, 2);
        return f;
      });
      const got = await new Promise<number[]>((resolve, reject) => {
        const sock = net.connect({ host: '127.0.0.1', port: s.port });
        let buf = Buffer.alloc(0);
        const seen: number[] = [];
        // Split the frames at an odd offset, across writes, to exercise reassembly.
        const all = Buffer.concat(frames);
        sock.on('connect', () => {
          sock.write(all.subarray(0, 7));
          setImmediate(() => sock.write(all.subarray(7)));
        });
        sock.on('data', (chunk) => {
          buf = Buffer.concat([buf, chunk]);
          while (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
            const len = buf.readUInt16BE(0);
            seen.push(dnsPacket.decode(buf.subarray(2, 2 + len)).id!);
            buf = buf.subarray(2 + len);
          }
          if (seen.length === ids.length) {
            sock.destroy();
            resolve(seen);
          }
        });
        sock.on('error', reject);
      });
      expect([...got].sort((a, b) => a - b)).to.deep.equal(ids);
    });
  });

  describe('malformed input', () => {
    it('drops a packet shorter than a header', async () => {
      expect(await s.raw(Buffer.from([1, 2, 3, 4, 5]), { timeoutMs: 300 })).to.equal(undefined);
    });
    it('answers FORMERR to two questions', async () => {
      const wire = dnsPacket.encode({ id: 7, type: 'query', questions: [{ name: 'a.test', type: 'A' }, { name: 'b.test', type: 'A' }] });
      const raw = (await s.raw(wire))!;
      expect(raw.readUInt16BE(0)).to.equal(7);
      expect(raw[3]! & 0xf).to.equal(Rcode.FORMERR);
    });
    it('answers FORMERR to a bad label length', async () => {
      const wire = Buffer.from([0, 8, 1, 0, 0, 1, 0, 0, 0, 0, 0, 0, 70, 97, 98, 0, 0, 1, 0, 1]);
      const raw = (await s.raw(wire))!;
      expect(raw.readUInt16BE(0)).to.equal(8);
      expect(raw[3]! & 0xf).to.equal(Rcode.FORMERR);
    });
    it('answers NOTIMP to an opcode other than QUERY (UPDATE)', async () => {
      const wire = dnsPacket.encode({ id: 11, type: 'query', questions: [{ name: 'x.test', type: 'SOA' }] });
      wire[2] = wire[2]! | (5 << 3); // opcode 5, UPDATE
      const raw = (await s.raw(wire))!;
      expect(raw[3]! & 0xf).to.equal(Rcode.NOTIMP);
    });
    it('never answers a response (no reflection loops)', async () => {
      const wire = dnsPacket.encode({ id: 12, type: 'response', questions: [{ name: 'x.test', type: 'A' }] });
      expect(await s.raw(wire, { timeoutMs: 300 })).to.equal(undefined);
    });
  });

  describe('plugin failures', () => {
    for (const name of ['boom.b.test', 'async-boom.b.test']) {
      it(`a plugin that throws (${name}) gives SERVFAIL, is logged with its name, and the server keeps serving`, async () => {
        const m = await s.query(name, 'A');
        expect(m.rcode).to.equal(Rcode.SERVFAIL);
        expect(s.logs.some((l) => l.includes('plugin/boom') && l.includes('kaboom'))).to.equal(true);
        const after = await s.query('fine.b.test', 'TXT');
        expect(txt(after)).to.equal('b-block zone=b.test');
      });
    }
    it('a DnsError chooses the rcode', async () => {
      const m = await s.query('refuse.b.test', 'A');
      expect(m.rcode).to.equal(Rcode.REFUSED);
    });
    it('falling off the end of the chain is SERVFAIL', async () => {
      const m = await s.query('x.b.test', 'A');
      expect(m.rcode).to.equal(Rcode.NOERROR); // echo answers everything: the chain ends at echo
      const t = await startServer('end.test {\n boom\n}', { plugins: testPlugins });
      try {
        expect((await t.query('x.end.test', 'A')).rcode).to.equal(Rcode.SERVFAIL);
        expect(t.logs.some((l) => l.includes('no next plugin found'))).to.equal(true);
      } finally {
        await t.close();
      }
    });
  });

  it('logs the effective chain of each block at start-up', () => {
    expect(s.logs).to.include('[INFO] b.test.:0 chain: boom -> echo');
  });
});
