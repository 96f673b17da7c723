// The handler in process, with CoreDNS's own test tables adapted.
import { expect } from 'chai';
import { createRegistry, extendedErrors, loadConfigText, makeReply, messageOf, Rcode, type Metrics, type Reply, type Request } from 'nodens';
import { makeRequest, rr, rrText } from 'nodens/testing';
import { compileOptions, type TemplateOptions } from './setup.js';
import { TemplateHandler, type TemplateDeps } from './template.js';

const registry = createRegistry();

/** Counts increments per metric name. */
function countingMetrics(): Pick<Metrics, 'counter'> & { counts: Map<string, number> } {
  const counts = new Map<string, number>();
  const counter = (name: string) => ({ inc: () => void counts.set(name, (counts.get(name) ?? 0) + 1) });
  return { counts, counter: counter as unknown as Metrics['counter'] };
}

/** The template handlers of a Corefile block's body, in file order, as the server would chain them. */
function handlersOf(body: string, key = '.', deps: Partial<TemplateDeps> = {}): TemplateHandler[] {
  const config = loadConfigText(`${key} {\n${body}\n}\n`, 'Corefile', { registry });
  const block = config.servers[0]!;
  return block.plugins.filter((p) => p.name === 'template').map((p) =>
    new TemplateHandler(compileOptions(p.options as TemplateOptions, block.keys.map((k) => k.zone)), {
      resolve: () => Promise.reject(new Error('no upstream here')), metrics: countingMetrics(), ...deps,
    }));
}

const FALLTHROUGH = 3841; // CoreDNS's test marker for "went to the next plugin"

async function run(handlers: readonly TemplateHandler[], req: Request): Promise<Reply> {
  const at = (i: number): Reply | Promise<Reply> =>
    i < handlers.length ? handlers[i]!.serve(req, () => at(i + 1)) : makeReply(req.query, { rcode: FALLTHROUGH });
  return at(0);
}

const withClass = (req: Request, qclass: string): Request => ({ ...req, qclass });

// from coredns plugin/template/template_test.go: TestHandler (each template with `fallthrough`, zone `.`)
describe('template handler (CoreDNS template_test.go TestHandler)', () => {
  const IP_A = `match "(^|[.])ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$"
      answer "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"`;
  const rows: { name: string; template: string; qname: string; qtype: string; rcode: number; error?: RegExp; answer?: string[]; additional?: string[]; authority?: string[]; meta?: Record<string, string> }[] = [
    { name: 'RcodeServFail', template: 'template ANY ANY {\n rcode SERVFAIL\n fallthrough\n}', qname: 'test.invalid', qtype: 'A', rcode: Rcode.SERVFAIL },
    { name: 'ExampleDomainNameMismatch', template: `template ANY ANY {\n${IP_A}\n fallthrough\n}`, qname: 'test.invalid', qtype: 'A', rcode: FALLTHROUGH },
    {
      name: 'BrokenTemplate', template: 'template ANY ANY {\n match "[.]example[.]$"\n answer "{{ .Name }} 60 IN TXT \\"{{ index .Match 2 }}\\""\n fallthrough\n}',
      qname: 'test.example', qtype: 'ANY', rcode: Rcode.SERVFAIL, error: /index out of range: 2/,
    },
    { name: 'NonRRTemplate', template: 'template ANY ANY {\n match "[.]example[.]$"\n answer "{{ .Name }}"\n fallthrough\n}', qname: 'test.example', qtype: 'ANY', rcode: Rcode.SERVFAIL, error: /not a record/ },
    { name: 'NonRRAdditionalTemplate', template: 'template ANY ANY {\n match "[.]example[.]$"\n additional "{{ .Name }}"\n fallthrough\n}', qname: 'test.example', qtype: 'ANY', rcode: Rcode.SERVFAIL, error: /additional template/ },
    { name: 'NonRRAuthorityTemplate', template: 'template ANY ANY {\n match "[.]example[.]$"\n authority "{{ .Name }}"\n fallthrough\n}', qname: 'test.example', qtype: 'ANY', rcode: Rcode.SERVFAIL, error: /authority template/ },
    {
      name: 'ExampleIPMatch', template: 'template IN A {\n match ".*"\n answer "{{ .Name }} 60 IN A {{ .Remote }}"\n fallthrough\n}',
      qname: 'test.example', qtype: 'A', rcode: Rcode.NOERROR, answer: ['test.example. 60 IN A 10.240.0.1'],
    },
    { name: 'ExampleDomainMatch', template: `template ANY ANY {\n${IP_A}\n fallthrough\n}`, qname: 'ip-10-95-12-8.example', qtype: 'A', rcode: Rcode.NOERROR, answer: ['ip-10-95-12-8.example. 60 IN A 10.95.12.8'] },
    {
      name: 'ExampleDomainMatchHexIp',
      template: 'template ANY ANY {\n match "^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$"\n answer "{{ .Name }} 60 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}.{{ parseInt .Group.d 16 8 }}"\n fallthrough\n}',
      qname: 'ip0a5f0c09.example', qtype: 'A', rcode: Rcode.NOERROR, answer: ['ip0a5f0c09.example. 60 IN A 10.95.12.9'],
    },
    {
      name: 'BrokenParseIntTemplate', template: 'template ANY ANY {\n match "[.]example[.]$"\n answer "{{ .Name }} 60 IN TXT \\"{{ parseInt \\"gg\\" 16 8 }}\\""\n fallthrough\n}',
      qname: 'test.example', qtype: 'ANY', rcode: Rcode.SERVFAIL, error: /strconv.ParseUint: parsing "gg": invalid syntax/,
    },
    {
      name: 'ExampleDomainMXMatch',
      template: 'template ANY ANY {\n match "(^|[.])ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$"\n answer "{{ .Name }} 60 MX 10 {{ .Name }}"\n additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"\n fallthrough\n}',
      qname: 'ip-10-95-12-8.example', qtype: 'MX', rcode: Rcode.NOERROR,
      answer: ['ip-10-95-12-8.example. 60 IN MX 10 ip-10-95-12-8.example.'], additional: ['ip-10-95-12-8.example. 60 IN A 10.95.12.8'],
    },
    {
      name: 'ExampleDomainANSMatch',
      template: `template ANY ANY {\n${IP_A}\n additional "ns0.example. IN A 203.0.113.8"\n authority "example. IN NS ns0.example.com."\n fallthrough\n}`,
      qname: 'ip-10-95-12-8.example', qtype: 'A', rcode: Rcode.NOERROR,
      answer: ['ip-10-95-12-8.example. 60 IN A 10.95.12.8'], additional: ['ns0.example. 3600 IN A 203.0.113.8'], authority: ['example. 3600 IN NS ns0.example.com.'],
    },
    {
      name: 'ExampleInvalidNXDOMAIN',
      template: 'template ANY ANY {\n match "[.]invalid[.]$"\n rcode NXDOMAIN\n answer "invalid. 60 {{ .Class }} SOA a.invalid. b.invalid. (1 60 60 60 60)"\n fallthrough\n}',
      qname: 'test.invalid', qtype: 'MX', rcode: Rcode.NXDOMAIN, answer: ['invalid. 60 IN SOA a.invalid. b.invalid. 1 60 60 60 60'],
    },
    {
      name: 'CNAMEWithoutUpstream', template: 'template ANY ANY {\n match "example[.]net[.]"\n answer "example.net 60 IN CNAME target.example.com"\n fallthrough\n}',
      qname: 'example.net', qtype: 'A', rcode: Rcode.NOERROR, answer: ['example.net. 60 IN CNAME target.example.com.'],
    },
    {
      name: 'mdMatch',
      template: `template ANY ANY {\n match "(^|[.])ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$"
        answer "{{ .Meta \\"foo\\" }}-{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
        additional "{{ .Meta \\"bar\\" }}.example. IN A 203.0.113.8"
        authority "example. IN NS {{ .Meta \\"bar\\" }}.example.com."\n fallthrough\n}`,
      qname: 'ip-10-95-12-8.example', qtype: 'A', rcode: Rcode.NOERROR, meta: { foo: 'myfoo', bar: 'mybar', foobar: 'myfoobar' },
      answer: ['myfoo-ip-10-95-12-8.example. 60 IN A 10.95.12.8'], additional: ['mybar.example. 3600 IN A 203.0.113.8'], authority: ['example. 3600 IN NS mybar.example.com.'],
    },
    {
      name: 'mdMissing',
      template: `template ANY ANY {\n match "(^|[.])ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$"
        answer "{{ .Meta \\"foofoo\\" }}{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"\n fallthrough\n}`,
      qname: 'ip-10-95-12-8.example', qtype: 'A', rcode: Rcode.NOERROR, meta: { foo: 'myfoo' }, answer: ['ip-10-95-12-8.example. 60 IN A 10.95.12.8'],
    },
  ];

  for (const row of rows) {
    it(row.name, async () => {
      const handlers = handlersOf(row.template);
      const base = makeRequest(row.qname, row.qtype, { clientAddress: '10.240.0.1' });
      const meta = row.meta;
      const req = meta ? Object.assign(base, { metadata: { get: (l: string) => meta[l] } }) : base;
      let reply: Reply;
      try {
        reply = await run(handlers, req);
      } catch (err) {
        expect(row.error, `unexpected error ${(err as Error).message}`).to.not.equal(undefined);
        expect((err as Error).message).to.match(row.error!);
        expect((err as { rcode?: number }).rcode).to.equal(Rcode.SERVFAIL);
        return;
      }
      expect(row.error, 'expected an error').to.equal(undefined);
      const m = messageOf(reply);
      expect(m.rcode).to.equal(row.rcode);
      if (row.rcode === FALLTHROUGH || row.rcode === Rcode.SERVFAIL) return;
      expect(m.aa).to.equal(true);
      expect(m.answer.map(rrText)).to.deep.equal(row.answer ?? []);
      expect(m.additional.map(rrText)).to.deep.equal(row.additional ?? []);
      expect(m.authority.map(rrText)).to.deep.equal(row.authority ?? []);
    });
  }
});

// from coredns plugin/template/template_test.go: TestMultiSection (block test.:8053)
describe('template handler: several templates in one block (CoreDNS TestMultiSection)', () => {
  const handlers = handlersOf(`
    # REFUSE IN A for the server zone (test.)
    template IN A {
      rcode REFUSED
    }
    # Fallthrough everything IN TXT for test.
    template IN TXT {
      match "$^"
      rcode SERVFAIL
      fallthrough
    }
    # Answer CH TXT *.coredns.invalid. / coredns.invalid.
    template CH TXT coredns.invalid {
      answer "{{ .Name }} 60 CH TXT \\"test\\""
    }
    # Answer example. ip templates and fallthrough otherwise
    template IN A example {
      match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
      answer "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
      fallthrough
    }
    # Answer MX record requests for ip templates in example. and never fall through
    template IN MX example {
      match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$
      answer "{{ .Name }} 60 IN MX 10 {{ .Name }}"
      additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"
    }`, 'test.:8053');

  const rows: { qname: string; qtype: string; qclass?: string; rcode: number; answer?: string[] }[] = [
    { qname: 'some.test', qtype: 'A', rcode: Rcode.REFUSED },
    { qname: 'some.test', qtype: 'TXT', rcode: FALLTHROUGH },
    { qname: 'coredns.invalid', qtype: 'TXT', qclass: 'CH', rcode: Rcode.NOERROR, answer: ['coredns.invalid. 60 CH TXT "test"'] },
    { qname: 'ip-10-11-12-13.example', qtype: 'A', rcode: Rcode.NOERROR, answer: ['ip-10-11-12-13.example. 60 IN A 10.11.12.13'] },
    { qname: 'ip-10-11-12-13.example', qtype: 'MX', rcode: Rcode.NOERROR, answer: ['ip-10-11-12-13.example. 60 IN MX 10 ip-10-11-12-13.example.'] },
    { qname: 'something.example', qtype: 'A', rcode: FALLTHROUGH },
    { qname: 'something.example', qtype: 'MX', rcode: Rcode.SERVFAIL },
  ];
  for (const row of rows) {
    it(`${row.qname} ${row.qclass ?? 'IN'} ${row.qtype} → ${row.rcode === FALLTHROUGH ? 'next plugin' : row.rcode}`, async () => {
      const reply = messageOf(await run(handlers, withClass(makeRequest(row.qname, row.qtype), row.qclass ?? 'IN')));
      expect(reply.rcode).to.equal(row.rcode);
      if (row.answer) expect(reply.answer.map(rrText)).to.deep.equal(row.answer);
    });
  }
});

// from coredns plugin/template/template_test.go: TestHandler, "EDNS error"
describe('template handler: ederror', () => {
  it('adds the RFC 8914 Extended DNS Error to the reply', async () => {
    const [handler] = handlersOf('template ANY ANY {\n rcode NXDOMAIN\n authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"\n ederror 21 "Blocked due to RFC2606"\n}');
    const reply = messageOf(await handler!.serve(makeRequest('test.invalid', 'A', { do: true }), () => Promise.reject(new Error('not next'))));
    expect(reply.rcode).to.equal(Rcode.NXDOMAIN);
    expect(extendedErrors(reply.edns?.options)).to.deep.equal([{ infoCode: 21, extraText: 'Blocked due to RFC2606' }]);
  });
});

describe('template handler: .Meta reads the request\'s metadata', () => {
  it('a label another plugin published, computed lazily; a missing one renders empty', async () => {
    const [handler] = handlersOf('template IN TXT {\n answer "{{ .Name }} 60 IN TXT \\"ns={{ .Meta \\"kubernetes/client-namespace\\" }}\\" \\"x={{ .Meta \\"no/such\\" }}\\""\n}');
    const req = makeRequest('a.example', 'TXT');
    req.metadata.set('kubernetes/client-namespace', () => 'default');
    const reply = messageOf(await handler!.serve(req, () => Promise.reject(new Error('not next'))));
    expect(reply.answer.map(rrText)).to.deep.equal(['a.example. 60 IN TXT "ns=default" "x="']);
  });
});

describe('template handler: upstream CNAME targets and metrics', () => {
  it('adds what the server answers for a CNAME target (A and AAAA only), and keeps the CNAME alone when that fails', async () => {
    const asked: string[] = [];
    const [handler] = handlersOf('template IN ANY foogle.com {\n match "^foogle\\.com\\.$"\n answer "foogle.com 60 IN CNAME google.com"\n}', '.', {
      resolve: async (q) => {
        asked.push(`${q.question[0]!.name} ${q.question[0]!.type}`);
        if (q.question[0]!.type === 'AAAA') throw new Error('unreachable');
        return makeReply(q, { answer: [rr`google.com. 300 IN A 142.250.1.1`], tc: true });
      },
    });
    const a = messageOf(await handler!.serve(makeRequest('foogle.com', 'A'), () => Promise.reject(new Error('not next'))));
    expect(a.answer.map(rrText)).to.deep.equal(['foogle.com. 60 IN CNAME google.com.', 'google.com. 300 IN A 142.250.1.1']);
    expect(a.tc, 'the upstream TC bit is kept').to.equal(true);
    const aaaa = messageOf(await handler!.serve(makeRequest('foogle.com', 'AAAA'), () => Promise.reject(new Error('not next'))));
    expect(aaaa.answer.map(rrText)).to.deep.equal(['foogle.com. 60 IN CNAME google.com.']);
    const mx = messageOf(await handler!.serve(makeRequest('foogle.com', 'MX'), () => Promise.reject(new Error('not next'))));
    expect(mx.answer.map(rrText)).to.deep.equal(['foogle.com. 60 IN CNAME google.com.']);
    expect(asked).to.deep.equal(['google.com A', 'google.com AAAA']);
  });

  it('counts matches, template failures and record failures under CoreDNS\'s metric names', async () => {
    const metrics = countingMetrics();
    const [ok, broken, garbage] = ['answer "{{ .Name }} 60 IN A 10.0.0.1"', 'answer "{{ index .Match 9 }}"', 'answer "{{ .Name }}"']
      .map((a) => handlersOf(`template IN A {\n ${a}\n}`, '.', { metrics })[0]!);
    const req = makeRequest('a.example', 'A');
    await ok!.serve(req, () => Promise.reject(new Error('not next')));
    expect(() => broken!.serve(req, () => Promise.reject(new Error('not next')))).to.throw(/index out of range/);
    expect(() => garbage!.serve(req, () => Promise.reject(new Error('not next')))).to.throw(/not a record/);
    expect(Object.fromEntries(metrics.counts)).to.deep.equal({
      coredns_template_matches_total: 3, coredns_template_template_failures_total: 1, coredns_template_rr_failures_total: 1,
    });
  });
});
