// The rewrite handler in process, with CoreDNS's own tables adapted. Each rule is one handler, chained in order;
// the last "plugin" (CoreDNS's msgPrinter) answers an A record for the question it was given, so a row can check
// both what the rest of the chain saw and what the client gets back.
import { expect } from 'chai';
import { deriveRequest, DnsError, fqdn, makeReply, messageOf, type EdnsOption, type Message, type Next, type Reply, type Request } from 'nodens';
import { makeRequest, rr, rrText } from 'nodens/testing';
import { RewriteHandler } from './rewrite.js';
import { compileRule } from './rules.js';


/** What the end of the chain saw. */
interface Seen { name: string; type: string; class: string; ednsOptions: readonly EdnsOption[] }

/** CoreDNS's msgPrinter: an A record for the question asked, unless `answer` says what to answer. */
function printer(seen: Seen[], answer?: (q: Request) => Partial<Message>) {
  return (req: Request): Reply => {
    seen.push({ name: fqdn(req.qname), type: req.qtype, class: req.qclass, ednsOptions: req.ednsOptions });
    const fields = answer ? answer(req) : { answer: [rr`${fqdn(req.qname)} 5 IN A 10.0.0.1`] };
    return { ...makeReply(req.query, fields), ...(fields.edns ? { edns: fields.edns } : {}) };
  };
}

async function run(rules: readonly string[][], req: Request, end: (req: Request) => Reply): Promise<Message> {
  const handlers = rules.map((words) => new RewriteHandler(compileRule(words)));
  const at = (i: number, r: Request): Reply | Promise<Reply> =>
    i < handlers.length ? handlers[i]!.serve(r, ((c) => at(i + 1, c ? deriveRequest(r, c) : r)) as Next) : end(r);
  return messageOf(await at(0, req));
}

// from coredns plugin/rewrite/rewrite_test.go: TestRewrite (what the next plugin sees)
describe('rewrite: the question the rest of the chain sees (CoreDNS rewrite_test.go TestRewrite)', () => {
  const rules = [
    ['stop', 'name', 'from.nl.', 'to.nl.'],
    ['stop', 'name', 'regex', '(core)\\.(dns)\\.(rocks)\\.(nl)', '{2}.{1}.{3}.{4}', 'answer', 'name', '(dns)\\.(core)\\.(rocks)\\.(nl)', '{2}.{1}.{3}.{4}'],
    ['stop', 'name', 'exact', 'from.exact.nl.', 'to.nl.'],
    ['stop', 'name', 'prefix', 'prefix', 'to'],
    ['stop', 'name', 'suffix', '.suffix.', '.nl.'],
    ['stop', 'name', 'substring', 'from.substring', 'to'],
    ['stop', 'name', 'regex', '(f.*m)\\.regex\\.(nl)', 'to.{2}'],
    ['continue', 'name', 'regex', 'consul\\.(rocks)', 'core.dns.{1}'],
    ['stop', 'name', 'core.dns.rocks', 'to.nl.'],
    ['continue', 'class', 'HS', 'CH'],
    ['stop', 'class', 'CH', 'IN'],
    ['stop', 'type', 'ANY', 'HINFO'],
  ];
  const rows: [from: string, fromT: string, fromC: string, to: string, toT: string, toC: string][] = [
    ['from.nl.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['a.nl.', 'A', 'IN', 'a.nl.', 'A', 'IN'],
    ['a.nl.', 'A', 'CH', 'a.nl.', 'A', 'IN'],
    ['a.nl.', 'ANY', 'IN', 'a.nl.', 'HINFO', 'IN'],
    // name is rewritten, type is not.
    ['from.nl.', 'ANY', 'IN', 'to.nl.', 'ANY', 'IN'],
    ['from.exact.nl.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['prefix.nl.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['to.suffix.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['from.substring.nl.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['from.regex.nl.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    ['consul.rocks.', 'A', 'IN', 'to.nl.', 'A', 'IN'],
    // name is not, type is, but class is, because class is the 2nd rule.
    ['a.nl.', 'ANY', 'CH', 'a.nl.', 'ANY', 'IN'],
    // class gets rewritten twice because of continue/stop logic: HS to CH, CH to IN
    ['a.nl.', 'ANY', 'HS', 'a.nl.', 'ANY', 'IN'],
    ['core.dns.rocks.nl.', 'A', 'IN', 'dns.core.rocks.nl.', 'A', 'IN'],
  ];
  for (const [from, fromT, fromC, to, toT, toC] of rows) {
    it(`${from} ${fromC} ${fromT} → ${to} ${toC} ${toT}`, async () => {
      const seen: Seen[] = [];
      await run(rules, makeRequest(from, fromT, { class: fromC }), printer(seen));
      expect(seen.map((s) => `${s.name} ${s.class} ${s.type}`)).to.deep.equal([`${to} ${toC} ${toT}`]);
    });
  }
});

// from coredns plugin/rewrite/rewrite_test.go: TestRewriteDefaultRevertPolicy (the answer goes back to the client's name)
describe('rewrite: the reply maps back (CoreDNS TestRewriteDefaultRevertPolicy and name_test.go)', () => {
  const revertRules = [
    ['stop', 'name', 'prefix', 'prefix', 'to'],
    ['stop', 'name', 'suffix', '.suffix.', '.nl.'],
    ['stop', 'name', 'substring', 'from.substring', 'to'],
    ['stop', 'name', 'regex', '(f.*m)\\.regex\\.(nl)', 'to.{2}'],
  ];
  // CoreDNS restores the question but, without `answer`, leaves the answer's names as the backend wrote them.
  for (const [from, to] of [['prefix.nl.', 'to.nl.'], ['to.suffix.', 'to.nl.'], ['from.substring.nl.', 'to.nl.'], ['from.regex.nl.', 'to.nl.']] as const) {
    it(`${from}: the backend answers for ${to}; without an answer rule its name stays`, async () => {
      const reply = await run(revertRules, makeRequest(from, 'A'), printer([]));
      expect(reply.answer.map((r) => fqdn(r.name))).to.deep.equal([to]);
    });
  }

  // name_test.go: TestRewriteNamePrefixSuffix, TestRewriteNameNoRewrite, TestRewriteNamePrefixSuffixNoAutoAnswer,
  // TestRewriteNamePrefixSuffixAutoAnswer, TestRewriteNameExactAnswer, TestRewriteNameRegexAnswer
  const rows: [args: string[], question: string, rewrite: string, answer: string][] = [
    [['prefix', 'foo', 'bar'], 'foo.example.com.', 'bar.example.com.', 'bar.example.com.'],
    [['prefix', 'foo.', 'bar.'], 'foo.example.com.', 'bar.example.com.', 'bar.example.com.'],
    [['suffix', 'com', 'org'], 'foo.example.com.', 'foo.example.org.', 'foo.example.org.'],
    [['suffix', '.com', '.org'], 'foo.example.com.', 'foo.example.org.', 'foo.example.org.'],
    [['suffix', '.ingress.coredns.rocks', 'nginx.coredns.rocks'], 'coredns.ingress.coredns.rocks.', 'corednsnginx.coredns.rocks.', 'corednsnginx.coredns.rocks.'],
    [['prefix', 'foo', 'bar'], 'coredns.foo.', 'coredns.foo.', 'coredns.foo.'],
    [['prefix', 'foo', 'bar.'], 'coredns.foo.', 'coredns.foo.', 'coredns.foo.'],
    [['suffix', 'com', 'org'], 'com.coredns.', 'com.coredns.', 'com.coredns.'],
    [['suffix', 'com', 'org.'], 'com.coredns.', 'com.coredns.', 'com.coredns.'],
    [['substring', 'service', 'svc'], 'com.coredns.', 'com.coredns.', 'com.coredns.'],
    [['suffix', '.ingress.coredns.rocks', 'nginx.coredns.rocks', 'answer', 'auto'], 'coredns.ingress.coredns.rocks.', 'corednsnginx.coredns.rocks.', 'coredns.ingress.coredns.rocks.'],
    [['exact', 'coredns.rocks', 'service.consul', 'answer', 'auto'], 'coredns.rocks.', 'service.consul.', 'coredns.rocks.'],
    [['exact', 'coredns.rocks.', 'service.consul.', 'answer', 'auto'], 'coredns.rocks.', 'service.consul.', 'coredns.rocks.'],
    [['exact', 'coredns.rocks', 'service.consul'], 'coredns.rocks.', 'service.consul.', 'coredns.rocks.'],
    [['exact', 'coredns.rocks.', 'service.consul.'], 'coredns.rocks.', 'service.consul.', 'coredns.rocks.'],
    [['exact', 'coredns.org.', 'service.consul.'], 'coredns.rocks.', 'coredns.rocks.', 'coredns.rocks.'],
    [['regex', '(.*).coredns.rocks', '{1}.coredns.maps', 'answer', 'auto'], 'foo.coredns.rocks.', 'foo.coredns.maps.', 'foo.coredns.rocks.'],
    [['regex', '(.*).coredns.rocks', '{1}.coredns.maps', 'answer', 'name', '(.*).coredns.maps', '{1}.coredns.works'], 'foo.coredns.rocks.', 'foo.coredns.maps.', 'foo.coredns.works.'],
    [['regex', '(.*).coredns.rocks', '{1}.coredns.maps'], 'foo.coredns.rocks.', 'foo.coredns.maps.', 'foo.coredns.maps.'],
  ];
  for (const [args, question, rewrite, answer] of rows) {
    it(`name ${args.join(' ')}: ${question} → ${rewrite}, answered as ${answer}`, async () => {
      const seen: Seen[] = [];
      const reply = await run([['stop', 'name', ...args]], makeRequest(question, 'A'), printer(seen));
      expect(seen.map((s) => s.name)).to.deep.equal([rewrite]);
      expect(reply.answer.map((r) => fqdn(r.name))).to.deep.equal([answer]);
    });
  }

  it('answer auto maps record values too (CNAME targets and subdomains of the rewritten name)', async () => {
    const reply = await run([['name', 'suffix', 'old.test', 'new.test', 'answer', 'auto']], makeRequest('web.old.test', 'A'), printer([], () => ({
      answer: [rr`web.new.test. 60 IN CNAME www.new.test.`, rr`www.new.test. 60 IN A 10.0.0.1`],
      authority: [rr`new.test. 60 IN SOA ns.new.test. admin.example. 1 2 3 4 5`],
    })));
    expect(reply.answer.map(rrText)).to.deep.equal(['web.old.test. 60 IN CNAME www.old.test.', 'www.old.test. 60 IN A 10.0.0.1']);
    expect(reply.authority.map(rrText)).to.deep.equal(['old.test. 60 IN SOA ns.old.test. admin.example. 1 2 3 4 5']);
  });

  it('answer value rewrites PTR, SRV and MX targets (README: PTR Response Value Rewrite)', async () => {
    const rules = [['stop', 'name', 'suffix', '.arpa', '.arpa', 'answer', 'name', 'auto', 'answer', 'value', '(.*)\\.service\\.consul\\.', '{1}.coredns.rocks.']];
    const reply = await run(rules, makeRequest('30.30.30.10.in-addr.arpa', 'PTR'), printer([], (q) => ({
      answer: [rr`${fqdn(q.qname)} 60 IN PTR ftp-us-west-1.service.consul.`],
    })));
    expect(reply.answer.map(rrText)).to.deep.equal(['30.30.30.10.in-addr.arpa. 60 IN PTR ftp-us-west-1.coredns.rocks.']);
  });

  it('rules that apply map back in reverse order (the last rule\'s answer rules first)', async () => {
    const rules = [
      ['continue', 'name', 'suffix', 'a.test', 'b.test', 'answer', 'auto'],
      ['stop', 'name', 'suffix', 'b.test', 'c.test', 'answer', 'auto'],
    ];
    const seen: Seen[] = [];
    const reply = await run(rules, makeRequest('x.a.test', 'A'), printer(seen));
    expect(seen.map((s) => s.name)).to.deep.equal(['x.c.test.']);
    expect(reply.answer.map((r) => fqdn(r.name))).to.deep.equal(['x.a.test.']);
  });

  it('a stop rule that applied ends the rewrites; one that did not apply lets the next one try', async () => {
    const seen: Seen[] = [];
    await run([['name', 'a.test', 'b.test'], ['name', 'b.test', 'c.test']], makeRequest('a.test', 'A'), printer(seen));
    await run([['name', 'z.test', 'b.test'], ['name', 'a.test', 'c.test']], makeRequest('a.test', 'A'), printer(seen));
    expect(seen.map((s) => s.name)).to.deep.equal(['b.test.', 'c.test.']);
  });
});

// from coredns plugin/rewrite/name_test.go: TestRewriteIllegalName (here a static target is refused at setup, see
// setup.test.ts); a target that only a regex group makes invalid is refused per query.
describe('rewrite: a name that is invalid after the rewrite', () => {
  it('SERVFAIL (a DnsError the core logs) when a regex group makes a label longer than 63 bytes', async () => {
    const req = makeRequest(`${'a'.repeat(40)}.x.test`, 'A');
    let err: unknown;
    try {
      await run([['name', 'regex', '(.*)\\.x\\.test\\.', '{1}{1}.y.test']], req, printer([]));
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(DnsError);
    expect((err as DnsError).rcode).to.equal(2);
    expect((err as DnsError).message).to.match(/^invalid name after rewrite: a{80}\.y\.test\.: .* longer than 63 bytes$/);
  });
});

// from coredns plugin/rewrite/ttl_test.go and rcode_test.go (the reply's TTLs and rcode)
describe('rewrite: ttl and rcode rules', () => {
  const answer = () => ({ answer: [rr`a.coredns.rocks. 5 IN A 10.0.0.1`, rr`a.coredns.rocks. 500 IN A 10.0.0.2`, rr`a.coredns.rocks. 100 IN A 10.0.0.3`] });
  const rows: [rule: string[], question: string, ttls: number[]][] = [
    [['ttl', 'regex', '(.*)\\.coredns\\.rocks', '15'], 'a.coredns.rocks', [15, 15, 15]],
    [['ttl', 'a.coredns.rocks', '30-300'], 'a.coredns.rocks', [30, 300, 100]],
    [['ttl', 'suffix', 'coredns.rocks', '-30'], 'a.coredns.rocks', [5, 30, 30]],
    [['ttl', 'prefix', 'a', '30-'], 'a.coredns.rocks', [30, 500, 100]],
    [['ttl', 'substring', 'nope', '30'], 'a.coredns.rocks', [5, 500, 100]],
  ];
  for (const [rule, question, ttls] of rows) {
    it(`${rule.join(' ')} → TTLs ${ttls.join(', ')}`, async () => {
      const reply = await run([rule], makeRequest(question, 'A'), printer([], answer));
      expect(reply.answer.map((r) => r.ttl)).to.deep.equal(ttls);
    });
  }

  it('rcode regex (.*)\\.coredns\\.rocks SERVFAIL NOERROR', async () => {
    const reply = await run([['continue', 'rcode', 'regex', '(.*)\\.coredns\\.rocks', 'SERVFAIL', 'NOERROR']], makeRequest('a.coredns.rocks', 'AAAA'), printer([], () => ({ rcode: 2 })));
    expect(reply.rcode).to.equal(0);
    const other = await run([['rcode', 'regex', '(.*)\\.coredns\\.rocks', '2', '0']], makeRequest('a.example.org', 'AAAA'), printer([], () => ({ rcode: 2 })));
    expect(other.rcode).to.equal(2);
  });
});

// from coredns plugin/rewrite/rewrite_test.go: TestRewriteEDNS0Local (the options the next plugin sees)
describe('rewrite: edns0 rules', () => {
  const hex = (opts: readonly EdnsOption[]) => opts.map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`);
  const rows: [args: string[], before: EdnsOption[], after: string[]][] = [
    [['local', 'set', '0xffee', '0xabcdef'], [], ['65518:abcdef']],
    [['local', 'append', '0xffee', 'abcdefghijklmnop'], [], [`65518:${Buffer.from('abcdefghijklmnop').toString('hex')}`]],
    [['local', 'replace', '0xffee', 'abcdefghijklmnop'], [], []],
    [['nsid', 'set'], [], ['3:']],
    [['nsid', 'append'], [], ['3:']],
    [['nsid', 'replace'], [], []],
    [['local', 'set', '65518', 'abcd'], [{ code: 0xffee, data: Uint8Array.of(1) }], ['65518:61626364']],
    [['local', 'replace', '0xffee', 'abcd'], [{ code: 0xffee, data: Uint8Array.of(1) }], ['65518:61626364']],
    [['local', 'append', '0xffee', 'abcd'], [{ code: 0xffee, data: Uint8Array.of(1) }], ['65518:01']],
    [['local', 'unset', '0xffee'], [{ code: 0xffee, data: Uint8Array.of(1) }, { code: 3, data: new Uint8Array(0) }], ['3:']],
    [['nsid', 'unset'], [{ code: 3, data: new Uint8Array(0) }], []],
    [['subnet', 'set', '24', '56'], [], ['8:00011800' + '0a0102']],
    [['subnet', 'set', '20', '56'], [], ['8:00011400' + '0a0100']],
    [['subnet', 'replace', '24', '56'], [], []],
    [['subnet', 'unset'], [{ code: 8, data: Uint8Array.of(0, 1, 8, 0, 10) }], []],
    [['local', 'set', '0xffee', '{client_port}'], [], ['65518:cf08']],
    [['local', 'set', '0xffee', '{client_ip}'], [], ['65518:0a010203']],
    [['local', 'set', '0xffee', '{qname}'], [], [`65518:${Buffer.from('example.com.').toString('hex')}`]],
    [['local', 'set', '0xffee', '{qtype}'], [], ['65518:0001']],
    [['local', 'set', '0xffee', '{protocol}'], [], [`65518:${Buffer.from('udp').toString('hex')}`]],
  ];
  for (const [args, before, after] of rows) {
    it(`edns0 ${args.join(' ')} on [${hex(before).join(' ')}] → [${after.join(' ')}]`, async () => {
      const seen: Seen[] = [];
      const req = makeRequest('example.com', 'A', { clientAddress: '10.1.2.3', clientPort: 0xcf08, ednsOptions: before });
      await run([['edns0', ...args]], req, printer(seen));
      expect(hex(seen[0]!.ednsOptions)).to.deep.equal(after);
    });
  }

  it('subnet from an IPv6 client: the /56 of its address', async () => {
    const seen: Seen[] = [];
    await run([['edns0', 'subnet', 'set', '24', '56']], makeRequest('example.com', 'A', { clientAddress: '2001:db8:1234:5678::1' }), printer(seen));
    expect(hex(seen[0]!.ednsOptions)).to.deep.equal(['8:0002380020010db8123456']);
  });

  it('revert: the option the rule set is taken back out of the reply', async () => {
    const reply = await run([['edns0', 'local', 'set', '0xffee', 'abcd', 'revert']], makeRequest('example.com', 'A'), printer([], (q) => ({
      edns: { udpSize: 1232, do: false, version: 0, options: [...q.ednsOptions, { code: 10, data: Uint8Array.of(1) }] },
    } as Partial<Message>)));
    expect(hex(reply.edns?.options ?? [])).to.deep.equal(['10:01']);
  });
});

// from coredns plugin/rewrite/reverter_test.go: TestValueResponseReverter (the rows without noRevert; NAPTR, which
// nodens keeps as opaque RDATA, left out)
describe('rewrite: answer value rewrites (CoreDNS reverter_test.go TestValueResponseReverter)', () => {
  const ruleSets: [name: string, rules: string[][]][] = [
    ['stop', [['stop', 'name', 'regex', '(.*)\\.domain\\.uk', '{1}.cluster.local', 'answer', 'name', '(.*)\\.cluster\\.local', '{1}.domain.uk', 'answer', 'value', '(.*)\\.cluster\\.local', '{1}.domain.uk']]],
    ['continue', [['continue', 'name', 'regex', '(.*)\\.domain\\.uk', '{1}.cluster.local', 'answer', 'name', '(.*)\\.cluster\\.local', '{1}.domain.uk', 'answer', 'value', '(.*)\\.cluster\\.local', '{1}.domain.uk']]],
    ['suffix', [['stop', 'name', 'suffix', '.domain.uk', '.cluster.local', 'answer', 'auto', 'answer', 'value', '(.*)\\.cluster\\.local', '{1}.domain.uk']]],
    ['suffix_multiple', [['continue', 'name', 'suffix', '.domain.uk', '.domain.us', 'answer', 'auto'], ['stop', 'name', 'suffix', '.domain.us', '.cluster.local', 'answer', 'auto']]],
  ];
  const rows: [type: string, answer: string, extra: string, value: string, extraName: string][] = [
    ['SRV', 'my.cluster.local. 5 IN SRV 0 100 100 srv1.my.cluster.local.', 'srv1.my.cluster.local. 5 IN A 10.0.0.1', 'srv1.my.domain.uk.', 'srv1.my.domain.uk.'],
    ['ANY', 'my.cluster.local. 3600 IN CNAME cname.cluster.local.', 'cname.cluster.local. 5 IN A 10.0.0.1', 'cname.domain.uk.', 'cname.domain.uk.'],
    ['ANY', 'my.cluster.local. 3600 IN DNAME dname.cluster.local.', 'dname.cluster.local. 5 IN A 10.0.0.1', 'dname.domain.uk.', 'dname.domain.uk.'],
    ['MX', 'my.cluster.local. 3600 IN MX 1 mx1.cluster.local.', 'mx1.cluster.local. 5 IN A 10.0.0.1', 'mx1.domain.uk.', 'mx1.domain.uk.'],
    ['ANY', 'my.cluster.local. 3600 IN NS ns1.cluster.local.', 'ns1.cluster.local. 5 IN A 10.0.0.1', 'ns1.domain.uk.', 'ns1.domain.uk.'],
    ['SOA', 'my.cluster.local. 1800 IN SOA ns1.cluster.local. admin.cluster.local. 1502165581 14400 3600 604800 14400', 'ns1.cluster.local. 5 IN A 10.0.0.1', 'ns1.domain.uk.', 'ns1.domain.uk.'],
  ];
  const valueOf = (m: Message): string => {
    const r = m.answer[0]!;
    switch (r.type) {
      case 'SRV': return fqdn(r.data.target);
      case 'MX': return fqdn(r.data.exchange);
      case 'SOA': return fqdn(r.data.mname);
      case 'CNAME': case 'DNAME': case 'NS': case 'PTR': return fqdn(r.data);
      default: return '';
    }
  };
  for (const [set, rules] of ruleSets) {
    for (const [type, answer, extra, value, extraName] of rows) {
      it(`${set}: my.domain.uk ${type}, answer ${answer.split(' ')[3]} → value ${value}`, async () => {
        const seen: Seen[] = [];
        const reply = await run(rules, makeRequest('my.domain.uk', type), printer(seen, () => ({ answer: [rr(answer)], additional: [rr(extra)] })));
        expect(seen.map((s) => s.name)).to.deep.equal(['my.cluster.local.']);
        expect(fqdn(reply.answer[0]!.name)).to.equal('my.domain.uk.');
        expect(reply.answer[0]!.type).to.equal(rr(answer).type);
        expect(valueOf(reply)).to.equal(value);
        expect(fqdn(reply.additional[0]!.name)).to.equal(extraName);
      });
    }
  }
});

// from coredns plugin/rewrite/rewrite_test.go: TestEdns0MultiRule. The end of the chain echoes the options it got
// into its reply (as CoreDNS's msgPrinter writes the request back), so `revert` rows show what reaches the client.
describe('rewrite: several edns0 rules (CoreDNS rewrite_test.go TestEdns0MultiRule)', () => {
  const hexOf = (opts: readonly EdnsOption[] | undefined) => (opts ?? []).map((o) => `${o.code}:${Buffer.from(o.data).toString('hex')}`);
  const local = (s: string) => ({ code: 0xffee, data: Buffer.from(s) });
  const h = (s: string) => Buffer.from(s).toString('hex');
  const nsid = { code: 3, data: new Uint8Array(0) };
  const rows: [rules: string[][], from: EdnsOption[], to: string[]][] = [
    [[['local', 'replace', '0xffee', 'abcdef'], ['local', 'set', '0xffee', 'fedcba']], [], [`65518:${h('fedcba')}`]],
    [[['local', 'replace', '0xffee', 'abcdef'], ['local', 'set', '0xffee', 'fedcba']], [local('foobar')], [`65518:${h('abcdef')}`]],
    [[['local', 'replace', '0xffee', 'abcdef', 'revert'], ['local', 'set', '0xffee', 'fedcba', 'revert']], [], []],
    [[['local', 'replace', '0xffee', 'abcdef', 'revert'], ['local', 'set', '0xffee', 'fedcba', 'revert']], [local('foobar')], [`65518:${h('foobar')}`]],
    [[['local', 'replace', '0xffee', '{qname}'], ['local', 'set', '0xffee', '{qtype}']], [], ['65518:0001']],
    [[['local', 'replace', '0xffee', '{qname}'], ['local', 'set', '0xffee', '{qtype}']], [local('foobar')], [`65518:${h('example.com.')}`]],
    [[['local', 'replace', '0xffee', '{qname}', 'revert'], ['local', 'set', '0xffee', '{qtype}', 'revert']], [], []],
    [[['local', 'replace', '0xffee', '{qname}', 'revert'], ['local', 'set', '0xffee', '{qtype}', 'revert']], [local('foobar')], [`65518:${h('foobar')}`]],
    [[['nsid', 'replace'], ['nsid', 'set']], [], ['3:']],
    [[['nsid', 'replace'], ['nsid', 'set']], [local('foobar')], [`65518:${h('foobar')}`, '3:']],
    [[['nsid', 'replace'], ['nsid', 'set']], [nsid], ['3:']],
    [[['nsid', 'replace', 'revert'], ['nsid', 'set', 'revert']], [], []],
    [[['nsid', 'replace', 'revert'], ['nsid', 'set', 'revert']], [local('foobar')], [`65518:${h('foobar')}`]],
    [[['nsid', 'replace', 'revert'], ['nsid', 'set', 'revert']], [nsid], ['3:']],
    // A subnet option is written as RFC 7871 puts it on the wire: the address cut to the prefix's bytes.
    [[['subnet', 'replace', '32', '56'], ['subnet', 'set', '0', '56']], [], ['8:00010000']],
    [[['subnet', 'replace', '32', '56'], ['subnet', 'set', '0', '56']], [{ code: 8, data: Uint8Array.of(0, 1, 0, 0) }], ['8:000120000af00001']],
  ];
  for (const [rules, from, to] of rows) {
    it(`${rules.map((r) => r.join(' ')).join(' / ')} on [${hexOf(from).join(' ')}] → [${to.join(' ')}]`, async () => {
      const req = makeRequest('example.com', 'A', { clientAddress: '10.240.0.1', ednsOptions: from });
      const reply = await run(rules.map((r) => ['stop', 'edns0', ...r]), req, printer([], (q) => ({
        answer: [], edns: { udpSize: 1232, do: false, version: 0, options: q.ednsOptions },
      } as Partial<Message>)));
      expect(hexOf(reply.edns?.options)).to.deep.equal(to);
    });
  }
});
