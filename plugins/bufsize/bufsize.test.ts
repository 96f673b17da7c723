// Adapted from CoreDNS plugin/bufsize/bufsize_test.go (TestBufsize) and setup_test.go (TestSetupBufsize),
// plus the limit seen by an upstream and by the client's UDP answer, through real servers.
import { expect } from 'chai';
import { definePlugin, makeReply, type TXTRecord } from 'nodens';
import { configErrorOf, makeRequest, parseDirective, startServer, stubNext } from 'nodens/testing';
import { serveBufsize } from './bufsize.js';
import bufsize from './index.js';

describe('bufsize: handler (CoreDNS TestBufsize)', () => {
  const MAX = 1024;
  const cases: { name: string; udpSize?: number; want: { udpSize: number; edns: boolean; derived: boolean } }[] = [
    { name: 'limits a larger buffer size', udpSize: MAX + 128, want: { udpSize: MAX, edns: true, derived: true } },
    { name: 'does not increase a smaller one', udpSize: MAX - 128, want: { udpSize: MAX - 128, edns: true, derived: false } },
    { name: 'leaves a query without EDNS alone (no OPT added)', want: { udpSize: 512, edns: false, derived: false } },
  ];
  for (const c of cases) {
    it(c.name, async () => {
      const req = makeRequest('.', 'A', c.udpSize ? { edns: { udpSize: c.udpSize, do: false, version: 0 } } : {});
      const next = stubNext(req);
      await serveBufsize(req, next, MAX);
      const seen = next.requests[0]!;
      expect(seen === req).to.equal(!c.want.derived);
      expect({ udpSize: seen.udpSize, edns: seen.edns }).to.deep.equal({ udpSize: c.want.udpSize, edns: c.want.edns });
      expect(seen.query.edns?.udpSize ?? 512, 'the query the rest of the chain sends on').to.equal(c.want.udpSize);
    });
  }
});

describe('bufsize: setup (CoreDNS TestSetupBufsize)', () => {
  const good: { corefile: string; want: object }[] = [
    { corefile: 'bufsize', want: {} },
    { corefile: 'bufsize "1220"', want: { size: 1220 } },
    { corefile: 'bufsize 4096', want: { size: 4096 } },
  ];
  for (const c of good) it(`parses ${c.corefile}`, () => expect(parseDirective(bufsize, c.corefile)).to.deep.equal(c.want));

  const bad: { corefile: string; col: number; message: RegExp }[] = [
    { corefile: 'bufsize "5000"', col: 9, message: /out of range \(want 512 to 4096\)/ },
    { corefile: 'bufsize "512 512"', col: 9, message: /not an integer/ },
    { corefile: 'bufsize 512 512', col: 13, message: /wrong argument count/ },
    { corefile: 'bufsize "511"', col: 9, message: /out of range/ },
    { corefile: 'bufsize "abc123"', col: 9, message: /not an integer/ },
  ];
  for (const c of bad) {
    it(`rejects ${c.corefile}`, () => {
      const err = configErrorOf(() => parseDirective(bufsize, c.corefile));
      expect(err.pos).to.include({ line: 2, col: c.col });
      expect(err.detail).to.match(c.message);
    });
  }
});

describe('bufsize: over sockets', () => {
  // The upstream tells what buffer size it was asked with.
  const echo = definePlugin({
    name: 'echo-bufsize', schema: { type: 'object' }, parse: () => ({}), before: 'forward',
    setup: () => ({
      serve: (req) => makeReply(req.query, { answer: [{ name: req.qname, ttl: 0, class: 'IN', type: 'TXT', data: [String(req.query.edns?.udpSize ?? 'none')] } satisfies TXTRecord] }),
    }),
  });
  const many = Array.from({ length: 60 }, (_, i) => `    10.0.${i >> 8}.${i & 255} big.example.org`).join('\n');
  let upstream: Awaited<ReturnType<typeof startServer>>;
  let front: Awaited<ReturnType<typeof startServer>>;
  before(async () => {
    upstream = await startServer('. {\n  echo-bufsize\n}\n', { plugins: [echo] });
    front = await startServer(`example.org {\n  bufsize 600\n  hosts {\n${many}\n  }\n}\n. {\n  bufsize 1100\n  forward . 127.0.0.1:${upstream.port}\n}\n`);
  });
  after(async () => {
    await front?.close();
    await upstream?.close();
  });

  it('forward sends the limited size upstream; a smaller one goes unchanged', async () => {
    expect((await front.dig(['+bufsize=4096', '+short', 'TXT', 'x.test'])).trim()).to.equal('"1100"');
    expect((await front.dig(['+bufsize=800', '+short', 'TXT', 'x.test'])).trim()).to.equal('"800"');
  });

  it('a UDP answer larger than the limit is truncated, though the client offered more', async () => {
    // 60 A records are ~1000 bytes: over 600, under the 4096 dig offers.
    const udp = await front.dig(['+bufsize=4096', '+ignore', 'A', 'big.example.org']);
    expect(udp).to.match(/flags: qr aa tc rd/);
    const tcp = await front.dig(['+tcp', 'A', 'big.example.org']);
    expect(tcp).to.match(/ANSWER: 60,/);
  });
});
