import { expect } from 'chai';
import { createRegistry, loadConfigText } from 'nodens';
import { configErrorOf } from 'nodens/testing';
import { compileOptions, type TemplateOptions } from './setup.js';

const registry = createRegistry();
const load = (body: string) => loadConfigText(`domain.com.:8053 dynamic.domain.com.:8053 {\n${body}\n}\n`, 'Corefile', { registry });

// from coredns plugin/template/setup_test.go: TestSetupParse (block keys domain.com.:8053 dynamic.domain.com.:8053)
describe('template setup (CoreDNS setup_test.go TestSetupParse)', () => {
  const rows: [corefile: string, shouldErr: boolean][] = [
    ['template', true],
    ['template X', true],
    ['template ANY', true],
    ['template ANY X', false], // nodens: TYPE names are checked by shape (X could be a type name), as types it does not know are TYPEn
    ['template ANY ANY .* {\n notavailable\n}', true],
    ['template ANY ANY {\n answer\n}', true],
    ['template ANY ANY {\n additional\n}', true],
    ['template ANY ANY {\n rcode\n}', true],
    ['template ANY ANY {\n rcode UNDEFINED\n}', true],
    ['template ANY ANY {\n answer "{{"\n}', true],
    ['template ANY ANY {\n additional "{{"\n}', true],
    ['template ANY ANY {\n authority "{{"\n}', true],
    ['template ANY ANY {\n answer "{{ notAFunction }}"\n}', true],
    ['template ANY ANY {\n answer "{{ parseInt }}"\n additional "{{ parseInt }}"\n authority "{{ parseInt }}"\n}', false],
    ['template ANY ANY (?P<x>', false],
    ['template ANY ANY {\n\n}', false],
    // nodens refuses the misspelled field `.Grup` at setup; Go's templates find it only when they run.
    ['template ANY A example.com {\n match ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]com\n answer "{{ .Name }} A {{ .Group.a }}.{{ .Group.b }}.{{ .Group.c }}.{{ .Grup.d }}."\n fallthrough\n}', true],
    ['template ANY AAAA example.com {\n match ip-(?P<a>[0-9]*)-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]com\n authority "example.com 60 IN SOA ns.example.com hostmaster.example.com (1 60 60 60 60)"\n fallthrough\n}', false],
    ['template IN ANY example.com {\n match "[.](example[.]com[.]dc1[.]example[.]com[.])$"\n rcode NXDOMAIN\n authority "{{ index .Match 1 }} 60 IN SOA ns.{{ index .Match 1 }} hostmaster.example.com (1 60 60 60 60)"\n fallthrough example.com\n}', false],
    ['template IN A example {\n match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$\n answer "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"\n}\ntemplate IN MX example. {\n match ^ip-10-(?P<b>[0-9]*)-(?P<c>[0-9]*)-(?P<d>[0-9]*)[.]example[.]$\n answer "{{ .Name }} 60 IN MX 10 {{ .Name }}"\n additional "{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}"\n}', false],
    ['template IN A example {\n match ^ip0a(?P<b>[a-f0-9]{2})(?P<c>[a-f0-9]{2})(?P<d>[a-f0-9]{2})[.]example[.]$\n answer "{{ .Name }} 3600 IN A 10.{{ parseInt .Group.b 16 8 }}.{{ parseInt .Group.c 16 8 }}.{{ parseInt .Group.d 16 8 }}"\n}', false],
    ['template ANY ANY invalid {\n rcode NXDOMAIN\n authority "invalid. 60 {{ .Class }} SOA ns.invalid. hostmaster.invalid. (1 60 60 60 60)"\n ederror 21 "Blocked according to RFC2606"\n}', false],
    ['template ANY ANY invalid {\n rcode NXDOMAIN\n ederror invalid "Blocked according to RFC2606"\n}', true],
    ['template ANY ANY invalid {\n rcode NXDOMAIN\n ederror too many arguments\n}', true],
    // nodens additions: bad regexes are RE2's errors; the property CoreDNS still accepts and ignores.
    ['template IN A {\n match "(a"\n}', true],
    ['template IN A {\n match "(?=lookahead)"\n}', true],
    ['template IN A {\n match "(a)\\1"\n}', true],
    ['template IN A {\n upstream\n}', false],
  ];
  for (const [corefile, shouldErr] of rows) {
    it(`${shouldErr ? 'refuses' : 'accepts'} ${corefile.replace(/\n\s*/g, '; ').slice(0, 90)}`, () => {
      if (shouldErr) configErrorOf(() => load(corefile));
      else expect(load(corefile).servers[0]!.plugins.filter((p) => p.name === 'template')).to.not.be.empty;
    });
  }

  it('names the file, line and column of a bad action inside a template', () => {
    const err = configErrorOf(() => load('template IN A {\n    answer "{{ .Name }} 60 IN A {{ .Grup }}"\n}'));
    // Line 3 of the file (the block key is line 1); the text starts at col 13, after the quote; `.Grup` is 23 characters in.
    expect(err.message).to.equal("Corefile:3:36: plugin/template: could not compile template: can't evaluate field Grup (nodens's template has Zone, Name, Regex, Class, Type, Match, Group, Question, Remote, Meta)");
  });

  it('says which regex is bad and why, at its position', () => {
    const err = configErrorOf(() => load('template IN A {\n    match ok "(unclosed"\n}'));
    expect(err.message).to.match(/^Corefile:3:14: plugin\/template: could not parse regex: \(unclosed: /);
  });

  it('refuses a regex longer than CoreDNS\'s 10000 characters', () => {
    const err = configErrorOf(() => load(`template IN A {\n    match "${'a'.repeat(10001)}"\n}`));
    expect(err.message).to.include('regex pattern too long: 10001 > 10000');
  });

  it('defaults: the block\'s zones, regex .*, rcode NOERROR, no fallthrough', () => {
    const opts = load('template IN A').servers[0]!.plugins[0]!.options as TemplateOptions;
    const t = compileOptions(opts, ['domain.com', 'dynamic.domain.com']);
    expect(t.zones).to.deep.equal(['domain.com', 'dynamic.domain.com']);
    expect(t.regexes.map((r) => r.source)).to.deep.equal(['.*']);
    expect(t.rcode).to.equal(0);
    expect(t.fall).to.equal(undefined);
  });

  it('YAML options go through the same compilation (a bad template fails at setup)', () => {
    expect(() => compileOptions({ class: 'IN', type: 'A', answer: ['{{ .Nope }}'] }, [''])).to.throw(/could not compile template "\{\{ \.Nope \}\}"/);
  });
});
