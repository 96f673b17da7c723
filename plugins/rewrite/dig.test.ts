// The rewrite README's examples, and the issue's old.test block, served by a real server and asked with dig.
import { expect } from 'chai';
import dgram from 'node:dgram';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { decodeMessage, encodeMessage, makeReply, type Message } from 'nodens';
import { rr, startServer, type TestServer } from 'nodens/testing';
import { parseDig } from '../../test/fixtures/dig-output.js';
import { fencedBlocks } from '../../test/fixtures/markdown.js';

const README = readFileSync(path.join(import.meta.dirname, 'README.md'), 'utf8');

/** The Corefile examples under a `###` heading (the n-th one when there are several). */
function example(heading: string, n = 0): string {
  const at = README.indexOf(`### ${heading}\n`);
  if (at < 0) throw new Error(`no example headed ${heading}`);
  const end = README.indexOf('\n### ', at + 4);
  return fencedBlocks(README.slice(at, end < 0 ? undefined : end)).filter((b) => b.info === 'corefile')[n]!.body;
}

interface Row {
  readonly dig: readonly string[];
  readonly status: string;
  readonly question: string;
  readonly answer?: readonly string[];
}

const EXAMPLES: { heading: string; n?: number; rows: Row[] }[] = [
  {
    heading: 'Rewrite a suffix, and map the answer back',
    rows: [
      { dig: ['web.old.test', 'A'], status: 'NOERROR', question: 'web.old.test. IN A', answer: ['web.old.test. 3600 IN A 10.0.0.1'] },
      // The answer's name is written as a pointer to the question, so it comes back in the client's case.
      { dig: ['WEB.Old.Test', 'A'], status: 'NOERROR', question: 'WEB.Old.Test. IN A', answer: ['WEB.Old.Test. 3600 IN A 10.0.0.1'] },
      // hosts answers SERVFAIL for a name it lacks (CoreDNS's choice), rewritten or not.
      { dig: ['nope.old.test', 'A'], status: 'SERVFAIL', question: 'nope.old.test. IN A' },
    ],
  },
  {
    heading: 'Regex rewrites',
    rows: [{ dig: ['ftp-us-west-1.example.org', 'A'], status: 'NOERROR', question: 'ftp-us-west-1.example.org. IN A', answer: ['ftp-us-west-1.example.org. 3600 IN A 10.10.10.10'] }],
  },
  {
    heading: 'Regex rewrites', n: 1,
    rows: [{ dig: ['ftp-us-west-1.example.org', 'A'], status: 'NOERROR', question: 'ftp-us-west-1.example.org. IN A', answer: ['ftp-us-west-1.example.org. 3600 IN A 10.10.10.10'] }],
  },
  {
    heading: 'Rewrite values in the answer',
    rows: [{ dig: ['-x', '10.30.30.30'], status: 'NOERROR', question: '30.30.30.10.in-addr.arpa. IN PTR', answer: ['30.30.30.10.in-addr.arpa. 3600 IN PTR ftp-us-west-1.coredns.rocks.'] }],
  },
  {
    heading: 'Several rules: continue and stop',
    rows: [
      { dig: ['ftp-us-west-1.example.org', 'A'], status: 'NOERROR', question: 'ftp-us-west-1.example.org. IN A', answer: ['ftp.example.org. 15 IN A 10.0.0.2'] },
      { dig: ['ftp.example.org', 'A'], status: 'NOERROR', question: 'ftp.example.org. IN A', answer: ['ftp.example.org. 15 IN A 10.0.0.2'] },
    ],
  },
];

describe('rewrite: README examples over dig', function () {
  this.timeout(30_000);
  for (const ex of EXAMPLES) {
    describe(`${ex.heading}${ex.n ? ` (#${ex.n + 1})` : ''}`, () => {
      let s: TestServer;
      before(async () => {
        s = await startServer(example(ex.heading, ex.n));
      });
      after(() => s?.close());
      for (const row of ex.rows) {
        it(`dig ${row.dig.join(' ')} → ${row.status} ${(row.answer ?? []).join(', ')}`, async () => {
          const got = parseDig(await s.dig(row.dig));
          expect(got.status).to.equal(row.status);
          expect(got.question).to.equal(row.question);
          expect(got.answer).to.deep.equal(row.answer ?? []);
        });
      }
    });
  }
});

describe('rewrite: the issue\'s block (rewrite in front of hosts, with log)', () => {
  it('answers web.old.test with the record of web.new.test under the original name, and log shows the name asked', async () => {
    const s = await startServer('old.test {\n  log\n  rewrite name suffix old.test new.test answer auto\n  hosts /dev/null new.test {\n    10.0.0.1 web.new.test\n  }\n}');
    try {
      for (const transport of [[], ['+tcp']]) {
        const got = parseDig(await s.dig(['web.old.test', 'A', ...transport]));
        expect(got.status).to.equal('NOERROR');
        expect(got.flags).to.include('aa');
        expect(got.question).to.equal('web.old.test. IN A');
        expect(got.answer).to.deep.equal(['web.old.test. 3600 IN A 10.0.0.1']);
      }
      // CoreDNS's plugin.cfg order, whatever the Corefile's: log, then rewrite, then hosts.
      expect(s.logs.some((l) => /chain: log -> rewrite -> hosts$/.test(l)), s.logs.join('\n')).to.equal(true);
      const lines = s.logs.filter((l) => l.includes('"A IN '));
      expect(lines).to.have.length(2);
      expect(lines[0]).to.match(/^\[INFO\] 127\.0\.0\.1:\d+ - \d+ "A IN web\.old\.test\. udp \d+ false \d+" NOERROR qr,aa,rd \d+ [\d.]+s$/);
      expect(lines[1]).to.include('"A IN web.old.test. tcp');
      expect(s.logs.join('\n')).to.not.include('new.test');
    } finally {
      await s.close();
    }
  });

  it('a regex group that makes an invalid name: SERVFAIL for that query, logged once, the server keeps serving', async () => {
    const s = await startServer('x.test {\n  rewrite name regex (.*)\\.x\\.test {1}{1}.y.test\n  hosts /dev/null y.test {\n    10.0.0.9 aa.y.test\n  }\n}');
    try {
      const long = 'a'.repeat(40);
      for (let i = 0; i < 3; i++) expect(parseDig(await s.dig([`${long}.x.test`, 'A'])).status).to.equal('SERVFAIL');
      expect(parseDig(await s.dig(['a.x.test', 'A'])).answer).to.deep.equal(['aa.y.test. 3600 IN A 10.0.0.9']);
      const errors = s.logs.filter((l) => l.startsWith('[ERROR]'));
      expect(errors).to.have.length(1);
      expect(errors[0]).to.match(/^\[ERROR\] plugin\/rewrite: a{40}\.x\.test\. A: invalid name after rewrite: a{80}\.y\.test\.: .*longer than 63 bytes$/);
    } finally {
      await s.close();
    }
  });
});

describe('rewrite in front of forward: what the upstream is asked', () => {
  /** A stand-in upstream on 127.0.0.1: records each query it gets and answers it with one A record. */
  async function upstream(): Promise<{ port: number; queries: Message[]; close(): Promise<void> }> {
    const sock = dgram.createSocket('udp4');
    const queries: Message[] = [];
    sock.on('message', (msg, rinfo) => {
      const q = decodeMessage(msg);
      queries.push(q);
      const reply = makeReply(q, { ra: true, answer: [rr`${q.question[0]!.name}. 60 IN A 192.0.2.7`] });
      sock.send(encodeMessage(reply), rinfo.port, rinfo.address);
    });
    await new Promise<void>((r) => sock.bind(0, '127.0.0.1', () => r()));
    return { port: sock.address().port, queries, close: () => new Promise((r) => sock.close(() => r())) };
  }

  it('gets the rewritten name and the ECS option; the client gets its own question and the answer mapped back', async () => {
    const up = await upstream();
    const s = await startServer(`old.test {\n  rewrite continue edns0 subnet set 24 56\n  rewrite name suffix old.test new.test answer auto\n  forward . 127.0.0.1:${up.port}\n}`);
    try {
      const got = parseDig(await s.dig(['web.old.test', 'A']));
      expect(got.status).to.equal('NOERROR');
      expect(got.question).to.equal('web.old.test. IN A');
      expect(got.answer).to.deep.equal(['web.old.test. 60 IN A 192.0.2.7']);
      expect(up.queries).to.have.length(1);
      const asked = up.queries[0]!;
      // forward randomises the letter case of what it sends (0x20): compare names case-insensitively.
      expect(asked.question[0]!.name.toLowerCase()).to.equal('web.new.test');
      expect(asked.question[0]!.type).to.equal('A');
      // RFC 7871: family 1, source /24, scope 0, the client's 127.0.0.0/24.
      const ecs = asked.edns?.options?.find((o) => o.code === 8);
      expect(Buffer.from(ecs!.data).toString('hex')).to.equal('000118007f0000');
    } finally {
      await s.close();
      await up.close();
    }
  });
});
