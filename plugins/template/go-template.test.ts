import { expect } from 'chai';
import { compileTemplate, TemplateExecError, TemplateSyntaxError, type TemplateData } from './go-template.js';

const data: TemplateData = {
  Zone: 'example.', Name: 'ip-10-95-12-8.example.', Regex: '.*', Class: 'IN', Type: 'A',
  Match: ['ip-10-95-12-8.example.', '95', '12', '8'],
  Group: { 0: 'ip-10-95-12-8.example.', 1: '95', 2: '12', 3: '8', b: '95', c: '12', d: '8', hex: '5f' },
  Question: { Name: 'IP-10-95-12-8.example.', Qtype: 1, Qclass: 1 },
  Remote: '10.240.0.1',
  Meta: (label) => ({ foo: 'myfoo', 'kubernetes/client-namespace': 'default' })[label] ?? '',
};

describe('template language (a subset of Go text/template)', () => {
  const rows: [template: string, want: string][] = [
    ['{{ .Name }} 60 IN A 10.{{ .Group.b }}.{{ .Group.c }}.{{ .Group.d }}', 'ip-10-95-12-8.example. 60 IN A 10.95.12.8'],
    ['{{ index .Match 1 }}', '95'],
    ['{{ index .Group "b" }}', '95'],
    ['{{ .Zone }} {{ .Class }} {{ .Type }} {{ .Remote }} {{ .Regex }}', 'example. IN A 10.240.0.1 .*'],
    ['{{ .Question.Name }} {{ .Question.Qtype }}', 'IP-10-95-12-8.example. 1'],
    ['{{ .Meta "foo" }}-{{ .Name }}', 'myfoo-ip-10-95-12-8.example.'],
    ['{{ .Meta "kubernetes/client-namespace" }}', 'default'],
    ['{{ .Meta "foofoo" }}{{ .Name }}', 'ip-10-95-12-8.example.'],
    ['10.{{ parseInt .Group.hex 16 8 }}', '10.95'],
    ['{{ .Group.hex | printf "%s!" }}', '5f!'],
    ['{{ len .Match }} {{ print "a" 1 }}', '4 a1'],
    ['{{ (index .Match 2) }}', '12'],
    ['a {{- " b " -}} c', 'a b c'],
    ['x{{/* a comment */}}y', 'xy'],
    ['no actions at all', 'no actions at all'],
    ['{{ .Group.nope }}', '<no value>'],
  ];
  for (const [template, want] of rows) {
    it(`${template} → ${want}`, () => expect(compileTemplate(template)(data)).to.equal(want));
  }

  // The syntax errors CoreDNS's setup_test.go expects ("{{", "{{ notAFunction }}"), and what nodens refuses at setup
  // that Go finds only when it runs (an unknown field such as `.Grup`).
  const errors: [template: string, message: RegExp, offset: number][] = [
    ['{{', /unclosed action/, 0],
    ['ab {{ notAFunction }}', /function "notAFunction" not defined/, 6],
    ['{{ .Grup.d }}', /can't evaluate field Grup/, 3],
    ['{{ if .Name }}x{{ end }}', /"if" actions are not supported/, 3],
    ['{{ $x }}', /undefined variable/, 3],
    ['{{ .Name "x" }}', /can't give argument to non-function/, 3],
    ['{{ .Meta }}', /wrong number of args for Meta/, 3],
    ['{{ (index .Match 1 }}', /unclosed left paren/, 3],
    ['{{ .Question.Nope }}', /can't evaluate field Nope in Question/, 3],
  ];
  for (const [template, message, offset] of errors) {
    it(`refuses ${template} at offset ${offset}`, () => {
      let err: unknown;
      try {
        compileTemplate(template);
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(TemplateSyntaxError);
      expect((err as TemplateSyntaxError).message).to.match(message);
      expect((err as TemplateSyntaxError).offset).to.equal(offset);
    });
  }

  // from coredns plugin/template/template_test.go: BrokenTemplate, BrokenParseIntTemplate
  const execErrors: [template: string, message: string][] = [
    ['{{ .Name }} 60 IN TXT "{{ index .Match 5 }}"', 'error calling index: index out of range: 5'],
    ['{{ .Name }} 60 IN TXT "{{ parseInt "gg" 16 8 }}"', 'error calling parseInt: strconv.ParseUint: parsing "gg": invalid syntax'],
    ['{{ parseInt "1ff" 16 8 }}', 'error calling parseInt: strconv.ParseUint: parsing "1ff": value out of range'],
  ];
  for (const [template, message] of execErrors) {
    it(`fails to render ${template}`, () => {
      const render = compileTemplate(template);
      expect(() => render(data)).to.throw(TemplateExecError, message);
    });
  }
});
