import { expect } from 'chai';
import { createRegistry, loadConfigText } from 'nodens';
import { configErrorOf } from 'nodens/testing';
import { compileRule } from './rules.js';
import { setup, type RewriteOptions } from './setup.js';

const registry = createRegistry();
const load = (body: string) => loadConfigText(`. {\n${body}\n}\n`, 'Corefile', { registry });

// from coredns plugin/rewrite/rewrite_test.go: TestNewRule (args after `rewrite`), and name_test.go: TestNewNameRule
describe('rewrite rules from words (CoreDNS rewrite_test.go TestNewRule, name_test.go TestNewNameRule)', () => {
  const ok = (...args: string[]) => [args, false] as const;
  const bad = (...args: string[]) => [args, true] as const;
  const rows: (readonly [readonly string[], boolean])[] = [
    bad(), bad('foo'), bad('name'), bad('name', 'a.com'), bad('name', 'a.com', 'b.com', 'c.com'),
    ok('name', 'a.com', 'b.com'), ok('name', 'exact', 'a.com', 'b.com'), ok('name', 'prefix', 'a.com', 'b.com'),
    ok('name', 'suffix', 'a.com', 'b.com'), ok('name', 'substring', 'a.com', 'b.com'), ok('name', 'regex', '([a])\\.com', 'new-{1}.com'),
    bad('name', 'regex', '([a]\\.com', 'new-{1}.com'),
    ok('name', 'regex', '(dns)\\.(core)\\.(rocks)', '{2}.{1}.{3}', 'answer', 'name', '(core)\\.(dns)\\.(rocks)', '{2}.{1}.{3}'),
    bad('name', 'regex', '(adns)\\.(core)\\.(rocks)', '{2}.{1}.{3}', 'answer', 'name', '(core)\\.(adns)\\.(rocks)', '{2}.{1}.{3}', 'too.long', 'way.too.long'),
    bad('name', 'regex', '(bdns)\\.(core)\\.(rocks)', '{2}.{1}.{3}', 'NoAnswer', 'name', '(core)\\.(bdns)\\.(rocks)', '{2}.{1}.{3}'),
    bad('name', 'regex', '(cdns)\\.(core)\\.(rocks)', '{2}.{1}.{3}', 'answer', 'ttl', '(core)\\.(cdns)\\.(rocks)', '{2}.{1}.{3}'),
    ok('name', 'substring', 'fcore.dns.rocks', 'dns.fcore.rocks', 'answer', 'name', '(fcore)\\.(dns)\\.(rocks)', '{2}.{1}.{3}'),
    bad('name', 'substring', 'a.com', 'b.com', 'c.com'),
    bad('type'), bad('type', 'a'), bad('type', 'any', 'a', 'a'), ok('type', 'any', 'a'), bad('type', 'XY', 'WV'), bad('type', 'ANY', 'WV'),
    bad('class'), bad('class', 'IN'), bad('class', 'ch', 'in', 'in'), ok('class', 'ch', 'in'), bad('class', 'XY', 'WV'), bad('class', 'IN', 'WV'),
    bad('edns0'), bad('edns0', 'unknown-rule-type', 'set'), bad('edns0', 'unknown-rule-type', 'unset'), bad('edns0', 'local'),
    bad('edns0', 'local', 'set'), bad('edns0', 'local', 'set', '0xffee'), bad('edns0', 'local', 'set', 'invalid-uint', 'abcdefg'),
    ok('edns0', 'local', 'set', '65518', 'abcdefg'), ok('edns0', 'local', 'set', '0xffee', 'abcdefg'), ok('edns0', 'local', 'set', '0xffee', 'abcdefg', 'revert'),
    ok('edns0', 'local', 'append', '0xffee', 'abcdefg'), ok('edns0', 'local', 'append', '0xffee', 'abcdefg', 'revert'),
    ok('edns0', 'local', 'replace', '0xffee', 'abcdefg'), ok('edns0', 'local', 'replace', '0xffee', 'abcdefg', 'revert'),
    ok('edns0', 'local', 'unset', '0xffee'), bad('edns0', 'local', 'unset', '0xffee', 'abcdefg'), bad('edns0', 'local', 'unset', '0xffee', 'revert'),
    bad('edns0', 'local', 'foo', '0xffee', 'abcdefg'), bad('edns0', 'local', 'set', '0xffee', '0xabcdefg'),
    bad('edns0', 'nsid', 'set', 'junk'), ok('edns0', 'nsid', 'set'), ok('edns0', 'nsid', 'set', 'revert'), ok('edns0', 'nsid', 'append'),
    ok('edns0', 'nsid', 'append', 'revert'), ok('edns0', 'nsid', 'replace'), ok('edns0', 'nsid', 'replace', 'revert'), ok('edns0', 'nsid', 'unset'),
    bad('edns0', 'nsid', 'unset', 'revert'), bad('edns0', 'nsid', 'foo'),
    bad('edns0', 'local', 'set', 'invalid-uint', '{qname}'), bad('edns0', 'local', 'set', '0xffee', '{dummy}'),
    ...['{qname}', '{qtype}', '{client_ip}', '{client_port}', '{protocol}', '{server_ip}', '{server_port}', '{kubernetes/client-namespace}']
      .flatMap((v) => ['set', 'append', 'replace'].map((a) => ok('edns0', 'local', a, '0xffee', v))),
    ok('edns0', 'local', 'set', '0xffee', '{server_port}', 'revert'),
    bad('edns0', 'subnet', 'set', '-1', '56'), bad('edns0', 'subnet', 'set', '24', '-56'), bad('edns0', 'subnet', 'set', '33', '56'),
    bad('edns0', 'subnet', 'set', '24', '129'), ok('edns0', 'subnet', 'set', '24', '56'), ok('edns0', 'subnet', 'set', '24', '56', 'revert'),
    ok('edns0', 'subnet', 'append', '24', '56'), bad('edns0', 'subnet', 'append', '24', '56', '72'), ok('edns0', 'subnet', 'replace', '24', '56'),
    ok('edns0', 'subnet', 'unset'), bad('edns0', 'subnet', 'unset', '24', '56'), bad('edns0', 'subnet', 'unset', 'revert'),
    bad('unknown-action', 'name', 'a.com', 'b.com'), ok('stop', 'name', 'a.com', 'b.com'), ok('continue', 'name', 'a.com', 'b.com'),
    bad('unknown-action', 'type', 'any', 'a'), ok('stop', 'type', 'any', 'a'), ok('continue', 'type', 'any', 'a'),
    bad('unknown-action', 'class', 'ch', 'in'), ok('stop', 'class', 'ch', 'in'), ok('continue', 'class', 'ch', 'in'),
    ok('stop', 'edns0', 'nsid', 'set'), ok('continue', 'edns0', 'subnet', 'unset'),
    // name_test.go TestNewNameRule
    ok('name', 'exact', 'srv3.coredns.rocks', 'srv4.coredns.rocks'), ok('name', 'srv1.coredns.rocks', 'srv2.coredns.rocks'),
    ok('name', 'suffix', 'coredns.rocks', 'coredns.rocks.'), ok('name', 'suffix', 'coredns.rocks.', 'coredns.rocks'),
    ok('name', 'regex', 'srv1.coredns.rocks', '10'), ok('name', 'regex', '(.*).coredns.rocks', '10'),
    ok('name', 'regex', '(.*).coredns.rocks', '{1}.coredns.rocks'), bad('name', 'regex', '(.*).coredns.rocks', '{1}.{2}.coredns.rocks'),
    ok('name', 'regex', 'staging.mydomain.com', 'aws-loadbalancer-id.us-east-1.elb.amazonaws.com'),
    bad('name', 'suffix', 'staging.mydomain.com', 'coredns.rock', 'answer'), bad('name', 'suffix', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name'),
    bad('name', 'suffix', 'staging.mydomain.com', 'coredns.rock', 'answer', 'other'), ok('name', 'suffix', 'staging.mydomain.com', 'coredns.rock', 'answer', 'auto'),
    ok('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'auto'), bad('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name'),
    ok('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', 'coredns.rock', 'staging.mydomain.com'),
    bad('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', '(.*).coredns.rock', '{1}.{2}.staging.mydomain.com'),
    ok('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', '(.*).coredns.rock', '{1}.staging.mydomain.com', 'name', '(.*).coredns.rock', '{1}.staging.mydomain.com'),
    bad('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', '(.*).coredns.rock', '{1}.staging.mydomain.com', 'name', '(.*).coredns.rock'),
    ok('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', '(.*).coredns.rock', '{1}.staging.mydomain.com', 'answer', 'value', '(.*).coredns.rock', '{1}.staging.mydomain.com'),
    bad('name', 'regex', 'staging.mydomain.com', 'coredns.rock', 'answer', 'name', '(.*).coredns.rock', '{1}.staging.mydomain.com', 'value', '(.*).coredns.rock'),
    // ttl_test.go and rcode_test.go shapes
    ok('ttl', 'a.com', '30'), ok('ttl', 'regex', '(.*)\\.coredns\\.rocks', '15'), ok('ttl', 'a.com', '30-300'), ok('ttl', 'a.com', '-30'), ok('ttl', 'a.com', '30-'),
    bad('ttl', 'a.com'), bad('ttl', 'a.com', '300-30'), bad('ttl', 'a.com', '-'), bad('ttl', 'a.com', 'x'), bad('ttl', 'fuzzy', 'a.com', '30'), bad('ttl', 'exact', 'a.com', '30', '40'),
    ok('rcode', 'a.com', 'SERVFAIL', 'NOERROR'), ok('rcode', 'regex', '(.*)\\.coredns\\.rocks', '2', '0'), bad('rcode', 'a.com', 'SERVFAIL'), bad('rcode', 'a.com', 'SERVFAIL', 'NOPE'),
    // nodens: what cannot be a name is refused when it is static (CoreDNS's TestRewriteIllegalName finds it per query).
    bad('name', 'example.org.', 'example..org.'), bad('name', 'exact', 'a.com', `${'x'.repeat(64)}.com`), bad('cname', 'exact', 'a.com', 'b.com'),
  ];
  for (const [words, shouldErr] of rows) {
    it(`${shouldErr ? 'refuses' : 'accepts'} rewrite ${words.join(' ')}`.slice(0, 160), () => {
      if (shouldErr) expect(() => compileRule(words)).to.throw();
      else expect(compileRule(words).mode).to.be.oneOf(['stop', 'continue']);
    });
  }

  it('refuses a regex longer than 10000 characters (TestNewNameRuleLargeRegex)', () => {
    expect(() => compileRule(['name', 'regex', 'a'.repeat(10001), 'replacement'])).to.throw('regex pattern too long: 10001 > 10000');
  });

  it('refuses what RE2 refuses (a backreference), and takes a catastrophic-looking pattern (linear engine)', () => {
    expect(() => compileRule(['name', 'regex', '(a)\\1', 'b'])).to.throw(/invalid regex matching pattern/);
    const rule = compileRule(['name', 'regex', '(a+)+$', 'b']);
    const start = performance.now();
    rule.rewrite(`${'a'.repeat(250)}!`, undefined as never);
    expect(performance.now() - start, 'a 252-character name against (a+)+$').to.be.lessThan(50);
  });
});

describe('rewrite setup: Corefile', () => {
  it('one line: mode, field and args', () => {
    const opts = load('rewrite continue name suffix old.test new.test answer auto').servers[0]!.plugins[0]!.options as RewriteOptions;
    expect(opts).to.deep.equal({ mode: 'continue', field: 'name', args: ['suffix', 'old.test', 'new.test', 'answer', 'auto'] });
  });

  it('a block holds the rule\'s words (rewrite stop { name ...; answer name ... })', () => {
    const opts = load('rewrite stop {\n  name regex (.*)-(us-west-1)\\.coredns\\.rocks {1}.service.{2}.consul\n  answer name (.*)\\.service\\.(us-west-1)\\.consul {1}-{2}.coredns.rocks\n}')
      .servers[0]!.plugins[0]!.options as RewriteOptions;
    expect(opts).to.deep.equal({
      mode: 'stop', field: 'name',
      args: ['regex', '(.*)-(us-west-1)\\.coredns\\.rocks', '{1}.service.{2}.consul', 'answer', 'name', '(.*)\\.service\\.(us-west-1)\\.consul', '{1}-{2}.coredns.rocks'],
    });
  });

  it('names the file, line and column of the bad word', () => {
    const rows: [body: string, message: string][] = [
      ['rewrite name regex (.*)\\.x {1}.{2}.y', "Corefile:2:28: plugin/rewrite: the rewrite regex pattern ({1}.{2}.y.) uses more subexpressions than its corresponding matching regex pattern ((.*)\\.x)"],
      ['rewrite name example.org example..org', "Corefile:2:26: plugin/rewrite: cannot rewrite to example..org.: 'example..org' has an empty label"],
      ['rewrite continue {\n  ttl a.com 300-30\n}', "Corefile:3:13: plugin/rewrite: invalid TTL '300-30' for a ttl rule: 300 > 30"],
      ['rewrite edns0 local set 0xffee 0xabc', "Corefile:2:32: plugin/rewrite: '0xabc' is not hex data"],
      ['rewrite nmae a.com b.com', 'Corefile:2:9: plugin/rewrite: invalid rule type "nmae" (name, type, class, edns0, ttl, rcode)'],
    ];
    for (const [body, message] of rows) expect(configErrorOf(() => load(body)).message, body).to.equal(message);
  });
});

describe('rewrite setup: options as YAML gives them (no parse step)', () => {
  it('compiles the same rule from { mode, field, args }', () => {
    expect(setup({ field: 'name', args: ['suffix', 'old.test', 'new.test', 'answer', 'auto'] }).serve).to.be.a('function');
    expect(setup({ mode: 'continue', field: 'ttl', args: ['a.com', '30-300'] }).serve).to.be.a('function');
  });

  it('a bad rule fails at setup, naming the plugin', () => {
    expect(() => setup({ field: 'name', args: ['regex', '(a', 'b'] })).to.throw(/^plugin\/rewrite: invalid regex matching pattern/);
    expect(() => setup({ field: 'name', args: ['a.com', 'a..com'] })).to.throw("plugin/rewrite: cannot rewrite to a..com.: 'a..com' has an empty label");
  });
});
