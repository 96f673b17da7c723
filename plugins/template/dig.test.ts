// CoreDNS's README examples for template, served by a real server and asked with dig: the answers CoreDNS gives.
// Each example is taken from this plugin's README.md by its heading; `forward . 8.8.8.8` is replaced by a hosts
// block that stands in for the upstream (it knows google.com), so nothing leaves 127.0.0.1.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { startServer, type TestServer } from 'nodens/testing';
import { parseDig } from '../../test/fixtures/dig-output.js';
import { fencedBlocks } from '../../test/fixtures/markdown.js';

const README = readFileSync(path.join(import.meta.dirname, 'README.md'), 'utf8');
const UPSTREAM = 'hosts {\n      142.250.1.1 google.com\n      fallthrough\n    }';

/** The Corefile examples under a `###` heading (the n-th one when there are several). */
function example(heading: string, n = 0): string {
  const at = README.indexOf(`### ${heading}\n`);
  if (at < 0) throw new Error(`no example headed ${heading}`);
  const end = README.indexOf('\n### ', at + 4);
  const blocks = fencedBlocks(README.slice(at, end < 0 ? undefined : end)).filter((b) => b.info === 'corefile');
  return blocks[n]!.body.replace(/forward \. 8\.8\.8\.8/, UPSTREAM);
}

interface Row {
  readonly dig: readonly string[];
  readonly status: string;
  readonly answer?: readonly string[];
  readonly authority?: readonly string[];
  readonly additional?: readonly string[];
  readonly ede?: readonly string[];
}

const EXAMPLES: { heading: string; n?: number; rows: Row[] }[] = [
  {
    heading: 'Resolve everything to NXDOMAIN',
    rows: [{ dig: ['example.org', 'A'], status: 'NXDOMAIN' }, { dig: ['anything.test', 'MX'], status: 'NXDOMAIN' }],
  },
  {
    heading: 'Resolve .invalid as NXDOMAIN',
    rows: [{
      dig: ['foo.invalid', 'A'], status: 'NXDOMAIN', authority: ['invalid. 60 IN SOA ns.invalid. hostmaster.invalid. 1 60 60 60 60'],
      ede: ['21 (Not Supported): (Blocked according to RFC2606)'],
    }],
  },
  {
    heading: 'Block invalid search domain completions',
    rows: [{
      dig: ['something.example.com.dc1.example.com', 'A'], status: 'NXDOMAIN',
      authority: ['example.com.dc1.example.com. 60 IN SOA ns.example.com. hostmaster.example.com. 1 60 60 60 60'],
    }],
  },
  {
    heading: 'Block invalid search domain completions', n: 1,
    rows: [
      { dig: ['something.example.com.dc1.example.com', 'A'], status: 'NXDOMAIN', authority: ['dc1.example.com. 60 IN SOA ns.dc1.example.com. hostmaster.dc1.example.com. 1 60 60 60 60'] },
      // Not matched: falls through to the upstream, which does not know it either.
      { dig: ['www.example.com', 'A'], status: 'SERVFAIL' },
    ],
  },
  {
    heading: 'Resolve A/PTR for .example',
    rows: [
      { dig: ['ip-10-1-2-3.example', 'A'], status: 'NOERROR', answer: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'] },
      { dig: ['www.ip-10-1-2-3.example', 'A'], status: 'NOERROR', answer: ['www.ip-10-1-2-3.example. 60 IN A 10.1.2.3'] },
      { dig: ['-x', '10.1.2.3'], status: 'NOERROR', answer: ['3.2.1.10.in-addr.arpa. 60 IN PTR ip-10-1-2-3.example.'] },
      // The PTR template has no fallthrough: a name in its zone that its regex does not take is SERVFAIL.
      { dig: ['x.in-addr.arpa', 'PTR'], status: 'SERVFAIL' },
    ],
  },
  {
    heading: 'Resolve hexadecimal ip pattern using parseInt',
    rows: [{ dig: ['ip0a7b7b7b.example', 'A'], status: 'NOERROR', answer: ['ip0a7b7b7b.example. 60 IN A 10.123.123.123'] }],
  },
  {
    heading: 'Resolve multiple ip patterns',
    rows: [
      { dig: ['ip-10-1-2-3.dc.example', 'A'], status: 'NOERROR', answer: ['ip-10-1-2-3.dc.example. 60 IN A 10.1.2.3'] },
      { dig: ['1.2.3.4.ext.example', 'A'], status: 'NOERROR', answer: ['1.2.3.4.ext.example. 60 IN A 1.2.3.4'] },
    ],
  },
  {
    heading: 'Resolve A and MX records for IP templates in .example',
    rows: [
      { dig: ['ip-10-1-2-3.example', 'A'], status: 'NOERROR', answer: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'] },
      {
        dig: ['ip-10-1-2-3.example', 'MX'], status: 'NOERROR', answer: ['ip-10-1-2-3.example. 60 IN MX 10 ip-10-1-2-3.example.'],
        additional: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'],
      },
    ],
  },
  {
    heading: 'Adding authoritative nameservers to the response',
    rows: [{
      dig: ['ip-10-1-2-3.example', 'A'], status: 'NOERROR', answer: ['ip-10-1-2-3.example. 60 IN A 10.1.2.3'],
      authority: ['example. 60 IN NS ns0.example.', 'example. 60 IN NS ns1.example.'],
      additional: ['ns0.example. 60 IN A 203.0.113.8', 'ns1.example. 60 IN A 198.51.100.8'],
    }],
  },
  {
    heading: 'Fabricate a CNAME',
    rows: [
      { dig: ['foogle.com', 'A'], status: 'NOERROR', answer: ['foogle.com. 60 IN CNAME google.com.', 'google.com. 3600 IN A 142.250.1.1'] },
      { dig: ['foogle.com', 'TXT'], status: 'NOERROR', answer: ['foogle.com. 60 IN CNAME google.com.'] },
    ],
  },
];

describe('template: CoreDNS README examples over dig', function () {
  this.timeout(30_000);
  for (const ex of EXAMPLES) {
    describe(`${ex.heading}${ex.n ? ` (#${ex.n + 1})` : ''}`, () => {
      let s: TestServer;
      before(async () => {
        s = await startServer(example(ex.heading, ex.n));
      });
      after(() => s?.close());
      for (const row of ex.rows) {
        it(`dig ${row.dig.join(' ')} → ${row.status}`, async () => {
          const got = parseDig(await s.dig(row.dig));
          expect(got.status).to.equal(row.status);
          if (row.status === 'NOERROR' || row.status === 'NXDOMAIN') expect(got.flags).to.include('aa');
          expect(got.answer).to.deep.equal(row.answer ?? []);
          expect(got.authority).to.deep.equal(row.authority ?? []);
          // dig's additional section holds the OPT pseudo-record as a comment; only records remain here.
          expect(got.additional).to.deep.equal(row.additional ?? []);
          expect(got.ede).to.deep.equal(row.ede ?? []);
        });
      }
    });
  }
});

describe('template: a record that does not parse at query time', () => {
  it('answers SERVFAIL for that query, logs it once, and the server keeps serving', async () => {
    const s = await startServer('example {\n  template IN A example {\n    match "^bad[.]"\n    answer "{{ .Name }}"\n    fallthrough\n  }\n  template IN A example {\n    answer "{{ .Name }} 60 IN A 10.0.0.1"\n  }\n}');
    try {
      for (let i = 0; i < 3; i++) expect(parseDig(await s.dig(['bad.example', 'A'])).status).to.equal('SERVFAIL');
      expect(parseDig(await s.dig(['good.example', 'A'])).answer).to.deep.equal(['good.example. 60 IN A 10.0.0.1']);
      const errors = s.logs.filter((l) => l.startsWith('[ERROR]'));
      expect(errors).to.deep.equal([
        '[ERROR] plugin/template: bad.example. A: answer template "{{ .Name }}" rendered "bad.example.", which is not a record: no type (want NAME [TTL] [CLASS] TYPE RDATA)',
      ]);
    } finally {
      await s.close();
    }
  });
});
