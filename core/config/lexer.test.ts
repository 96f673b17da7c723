import { expect } from 'chai';
import { lex, substituteEnv } from './lexer.js';

/** `text@line:col` for every token, `!` marking the first token of a line. */
function show(text: string, env: Record<string, string> = {}): string[] {
  return lex(text, 'F', env).map((l) => `${l.newline ? '!' : ''}${l.token.text}@${l.token.pos.line}:${l.token.pos.col}${l.brace ? '{}' : ''}`);
}

describe('config/lexer', () => {
  const cases: { name: string; text: string; env?: Record<string, string>; want: string[] }[] = [
    { name: 'words, braces, 1-based columns', text: '. {\n  log\n}', want: ['!.@1:1', '{@1:3{}', '!log@2:3', '!}@3:1{}'] },
    { name: 'tabs count as one column', text: '\tforward\t. 1.1.1.1', want: ['!forward@1:2', '.@1:10', '1.1.1.1@1:12'] },
    { name: 'comment to end of line, even mid-word', text: 'a#b c\nd # e\n# f\ng', want: ['!a@1:1', '!d@2:1', '!g@4:1'] },
    { name: 'quoted token with spaces and #', text: 'x "a b # c" y', want: ['!x@1:1', 'a b # c@1:3', 'y@1:13'] },
    { name: 'quote spanning lines keeps line numbers right', text: 'x "a\nb"\ny', want: ['!x@1:1', 'a\nb@1:3', '!y@3:1'] },
    { name: 'token after a multi-line quote on its closing line is not a new line', text: 'x "a\nb" z', want: ['!x@1:1', 'a\nb@1:3', 'z@2:4'] },
    { name: 'only \\" escapes', text: String.raw`"a\"b\\c\n"`, want: [String.raw`!a"b\\c\n@1:1`] },
    { name: 'a quoted brace is no brace', text: '"{" "}"', want: ['!{@1:1', '}@1:5'] },
    { name: '{} is two braces', text: '. {}', want: ['!.@1:1', '{@1:3{}', '}@1:4{}'] },
    { name: 'a brace inside a word is part of the word', text: 'a{ b}', want: ['!a{@1:1', 'b}@1:4'] },
    { name: 'CRLF line ends', text: 'a b\r\nc\r\n', want: ['!a@1:1', 'b@1:3', '!c@2:1'] },
    { name: 'env in words and quotes', text: 'x {$A} "{%B%}-y" p{$A}q', env: { A: 'aa', B: 'bb' }, want: ['!x@1:1', 'aa@1:3', 'bb-y@1:8', 'paaq@1:18'] },
    { name: 'env that expands to a brace stays a word', text: '{$O}', env: { O: '{' }, want: ['!{@1:1'] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(show(c.text, c.env)).to.deep.equal(c.want);
    });
  }

  it('marks quoted tokens', () => {
    const [a, b] = lex('a "b"', 'F');
    expect(a!.token.quoted).to.equal(undefined);
    expect(b!.token.quoted).to.equal(true);
  });

  it('throws at the opening quote of an unterminated string', () => {
    expect(() => lex('x\n  "abc', 'F')).to.throw().with.property('pos').deep.equal({ file: 'F', line: 2, col: 3 });
  });

  const envCases: [string, Record<string, string>, string][] = [
    ['{$X}', { X: '1' }, '1'],
    ['{$X}', {}, ''],
    ['{%X%}', { X: 'w' }, 'w'],
    ['{$X:dflt}', {}, 'dflt'],
    ['{$X:dflt}', { X: 'set' }, 'set'],
    ['a{$X}b{$Y}c', { X: '1', Y: '2' }, 'a1b2c'],
    ['{notenv}', { notenv: 'z' }, '{notenv}'],
  ];
  for (const [text, env, want] of envCases) {
    it(`substitutes ${text} with ${JSON.stringify(env)}`, () => {
      expect(substituteEnv(text, env)).to.equal(want);
    });
  }
});
