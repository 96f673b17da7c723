import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseCorefile } from './corefile.js';
import type { Directive } from './types.js';
import { configErrorOf } from '../testing.js';

/** A directive as `name arg arg { child; child }`, for compact expectations. */
function show(d: Directive): string {
  const head = [d.name.text, ...d.args.map((a) => a.text)].join(' ');
  return d.block ? `${head} { ${d.block.map(show).join('; ')} }` : head;
}

function blocks(text: string, env: Record<string, string> = {}): { keys: string[]; directives: string[] }[] {
  return parseCorefile(text, 'Corefile', { env, baseDir: '/nonexistent' }).blocks.map((b) => ({
    keys: b.keys.map((k) => k.text),
    directives: b.directives.map(show),
  }));
}

describe('config/corefile', () => {
  const cases: { name: string; text: string; env?: Record<string, string>; want: { keys: string[]; directives: string[] }[] }[] = [
    { name: 'one block', text: '. {\n  whoami\n  log\n}', want: [{ keys: ['.'], directives: ['whoami', 'log'] }] },
    { name: 'several keys, one line', text: 'a.org b.org:1053 {\n log\n}', want: [{ keys: ['a.org', 'b.org:1053'], directives: ['log'] }] },
    { name: 'comma-separated keys continue on the next line', text: 'a.org,\n  b.org, c.org\n{\n log\n}', want: [{ keys: ['a.org', 'b.org', 'c.org'], directives: ['log'] }] },
    { name: 'brace on the next line', text: 'a.org\n{\n log\n}', want: [{ keys: ['a.org'], directives: ['log'] }] },
    { name: 'two blocks', text: 'a {\n x 1\n}\nb {\n y 2\n}', want: [{ keys: ['a'], directives: ['x 1'] }, { keys: ['b'], directives: ['y 2'] }] },
    {
      name: 'nested blocks, properties with blocks',
      text: 'cluster.local {\n  kubernetes cluster.local in-addr.arpa {\n    pods insecure\n    deep {\n      deeper 1 2\n    }\n    fallthrough\n  }\n}',
      want: [{ keys: ['cluster.local'], directives: ['kubernetes cluster.local in-addr.arpa { pods insecure; deep { deeper 1 2 }; fallthrough }'] }],
    },
    { name: 'one-line blocks', text: '. { hosts { fallthrough } }', want: [{ keys: ['.'], directives: ['hosts { fallthrough }'] }] },
    { name: 'empty block {}', text: '. {}\nb {\n}', want: [{ keys: ['.'], directives: [] }, { keys: ['b'], directives: [] }] },
    { name: 'single block without braces', text: '.:1053\nwhoami\nforward . 1.1.1.1\n', want: [{ keys: ['.:1053'], directives: ['whoami', 'forward . 1.1.1.1'] }] },
    { name: 'comments anywhere', text: '# top\n. { # after brace\n  log # trailing\n  errors#glued\n}', want: [{ keys: ['.'], directives: ['log', 'errors'] }] },
    { name: 'quoted argument spanning lines', text: '. {\n  tpl "line1\nline2" x\n  log\n}', want: [{ keys: ['.'], directives: ['tpl line1\nline2 x', 'log'] }] },
    { name: 'env substitution', text: '{$Z}:{$P} {\n  forward . {$UP} {%UP2%}\n}', env: { Z: 'example.org', P: '1053', UP: '9.9.9.9', UP2: '1.1.1.1' }, want: [{ keys: ['example.org:1053'], directives: ['forward . 9.9.9.9 1.1.1.1'] }] },
    {
      name: 'snippets, imported into blocks and directive blocks',
      text: '(common) {\n  errors\n  log\n}\n(ft) {\n  fallthrough\n}\na {\n  import common\n  hosts {\n    import ft\n  }\n}\nb {\n  import common\n}',
      want: [{ keys: ['a'], directives: ['errors', 'log', 'hosts { fallthrough }'] }, { keys: ['b'], directives: ['errors', 'log'] }],
    },
    { name: 'one-line snippet', text: '(s) { log }\n. {\n import s\n cache\n}', want: [{ keys: ['.'], directives: ['log', 'cache'] }] },
    { name: 'snippet that imports a snippet', text: '(a) {\n log\n}\n(b) {\n import a\n errors\n}\n. {\n import b\n}', want: [{ keys: ['.'], directives: ['log', 'errors'] }] },
    { name: 'snippet holding whole server blocks', text: '(blocks) {\n a {\n  log\n }\n}\nimport blocks', want: [{ keys: ['a'], directives: ['log'] }] },
  ];
  for (const c of cases) {
    it(c.name, () => {
      expect(blocks(c.text, c.env)).to.deep.equal(c.want);
    });
  }

  it('keeps positions of directives, arguments and block keys', () => {
    const [b] = parseCorefile('\n  a.org   b.org {\n\tforward  . 1.1.1.1\n}', 'F', { baseDir: '/' }).blocks;
    expect(b!.pos).to.deep.equal({ file: 'F', line: 2, col: 3 });
    expect(b!.keys[1]!.pos).to.deep.equal({ file: 'F', line: 2, col: 11 });
    const fwd = b!.directives[0]!;
    expect(fwd.name.pos).to.deep.equal({ file: 'F', line: 3, col: 2 });
    expect(fwd.args[1]!.pos).to.deep.equal({ file: 'F', line: 3, col: 13 });
  });

  const errors: { name: string; text: string; code: string; line: number; col: number; re: RegExp }[] = [
    { name: 'unclosed block points at its brace', text: '. {\n  log\n', code: 'ERR_UNCLOSED_BRACE', line: 1, col: 3, re: /unclosed '\{'/ },
    { name: 'unclosed nested block points at the inner brace whose } is missing', text: '. {\n  hosts {\n    fallthrough\n}\n', code: 'ERR_UNCLOSED_BRACE', line: 2, col: 9, re: /the '\}' at 4:1 is indented like an outer block's/ },
    { name: 'unclosed outer block after a well-indented inner one', text: '. {\n  hosts {\n    fallthrough\n  }\n', code: 'ERR_UNCLOSED_BRACE', line: 1, col: 3, re: /unclosed/ },
    { name: 'unclosed directive block', text: '. {\n  hosts {\n    fallthrough\n', code: 'ERR_UNCLOSED_BRACE', line: 2, col: 9, re: /unclosed/ },
    { name: 'unclosed snippet', text: '(s) {\n log\n', code: 'ERR_UNCLOSED_BRACE', line: 1, col: 5, re: /unclosed/ },
    { name: 'unexpected } at top level', text: '. {\n  log\n}\n}', code: 'ERR_UNEXPECTED_BRACE', line: 4, col: 1, re: /unexpected '\}'/ },
    { name: 'unexpected } in a block without braces', text: '.\nlog\n}', code: 'ERR_UNEXPECTED_BRACE', line: 3, col: 1, re: /unexpected '\}'/ },
    { name: '{ with no address', text: '{\n log\n}', code: 'ERR_SYNTAX', line: 1, col: 1, re: /needs a server address/ },
    { name: '{ alone on a directive line', text: '. {\n  hosts\n  {\n  }\n}', code: 'ERR_SYNTAX', line: 3, col: 3, re: /unexpected '\{'/ },
    { name: 'unterminated quote', text: '. {\n  log "abc\n}', code: 'ERR_SYNTAX', line: 2, col: 7, re: /unterminated quoted string/ },
    { name: 'unknown snippet', text: '. {\n  import nosuch\n}', code: 'ERR_IMPORT', line: 2, col: 3, re: /no snippet named 'nosuch' and no such file/ },
    { name: 'snippet used before it is defined', text: '. {\n  import s\n}\n(s) {\n log\n}', code: 'ERR_IMPORT', line: 2, col: 3, re: /no snippet named 's'/ },
    { name: 'snippet importing itself', text: '(s) {\n  import s\n}\n. {\n  import s\n}', code: 'ERR_IMPORT', line: 2, col: 3, re: /import cycle: \(s\) -> \(s\)/ },
    { name: 'snippets importing each other', text: '(a) {\n import b\n}\n(b) {\n import a\n}\n. {\n import a\n}', code: 'ERR_IMPORT', line: 5, col: 2, re: /import cycle: \(a\) -> \(b\) -> \(a\)/ },
    { name: 'import without argument', text: '. {\n  import\n}', code: 'ERR_ARG_COUNT', line: 2, col: 3, re: /want 1/ },
    { name: 'import with two arguments', text: '. {\n  import a b\n}', code: 'ERR_ARG_COUNT', line: 2, col: 3, re: /got 2/ },
    { name: 'snippet defined twice', text: '(s) {\n}\n(s) {\n}', code: 'ERR_DUPLICATE', line: 3, col: 1, re: /already defined/ },
    { name: 'trailing comma at end of input', text: 'a.org,', code: 'ERR_SYNTAX', line: 1, col: 1, re: /another server address/ },
  ];
  for (const c of errors) {
    it(`error: ${c.name}`, () => {
      const err = configErrorOf(() => parseCorefile(c.text, 'Corefile', { baseDir: '/nonexistent' }));
      expect({ code: err.code, line: err.pos?.line, col: err.pos?.col }).to.deep.equal({ code: c.code, line: c.line, col: c.col });
      expect(err.message).to.match(c.re);
      expect(err.message.startsWith(`Corefile:${c.line}:${c.col}: `)).to.equal(true);
    });
  }

  describe('import of files', () => {
    let dir: string;
    before(() => {
      dir = mkdtempSync(join(tmpdir(), 'nodens-corefile-'));
      mkdirSync(join(dir, 'conf.d'));
      mkdirSync(join(dir, 'conf.d', 'sub.conf')); // a folder matching the glob is skipped
      writeFileSync(join(dir, 'conf.d', 'b.conf'), 'b.org {\n  log\n}\n');
      writeFileSync(join(dir, 'conf.d', 'a.conf'), 'a.org {\n  import ../plugins.inc\n}\n');
      writeFileSync(join(dir, 'conf.d', 'c.txt'), 'not imported {\n}\n');
      writeFileSync(join(dir, 'plugins.inc'), 'errors\ncache 30\n');
      writeFileSync(join(dir, 'cyc1'), '. {\n  import cyc2\n}\n');
      writeFileSync(join(dir, 'cyc2'), 'import cyc1\n');
      writeFileSync(join(dir, 'self'), 'import self\n');
      writeFileSync(join(dir, 'bad.inc'), 'log\n}\n}\n');
    });
    after(() => rmSync(dir, { recursive: true, force: true }));

    it('imports a glob (sorted) and files relative to the importing file', () => {
      const main = join(dir, 'Corefile');
      const parsed = parseCorefile('import conf.d/?.co*\n. {\n  import plugins.inc\n}\n', main);
      expect(parsed.blocks.map((b) => [b.keys.map((k) => k.text).join(' '), b.directives.map(show).join(', ')])).to.deep.equal([
        ['a.org', 'errors, cache 30'],
        ['b.org', 'log'],
        ['.', 'errors, cache 30'],
      ]);
      expect(parsed.imports).to.deep.equal([join(dir, 'conf.d', 'a.conf'), join(dir, 'conf.d', 'b.conf'), join(dir, 'plugins.inc')]);
      const cache = parsed.blocks[0]!.directives[1]!;
      expect(cache.name.pos).to.deep.equal({ file: join(dir, 'plugins.inc'), line: 2, col: 1 });
      expect(parsed.sources.get(join(dir, 'plugins.inc'))).to.equal('errors\ncache 30\n');
    });

    it('uses baseDir for imports in the top-level text', () => {
      const parsed = parseCorefile('. {\n import plugins.inc\n}', '<string>', { baseDir: dir });
      expect(parsed.blocks[0]!.directives.map(show)).to.deep.equal(['errors', 'cache 30']);
    });

    it('a glob matching nothing only warns, as in CoreDNS', () => {
      const warnings: string[] = [];
      const parsed = parseCorefile('. {\n  import nothing/*.conf\n  log\n}', 'C', { baseDir: dir, onWarning: (m) => warnings.push(m) });
      expect(parsed.blocks[0]!.directives.map(show)).to.deep.equal(['log']);
      expect(warnings).to.have.length(1);
      expect(warnings[0]).to.match(/^C:2:10: no files matching import glob pattern: nothing\/\*\.conf/);
    });

    const fileErrors: { name: string; text: string; line: number; col: number; file?: string; re: RegExp }[] = [
      { name: 'missing file', text: '. {\n  import missing.conf\n}', line: 2, col: 3, re: /no such file: .*missing\.conf/ },
      { name: 'import cycle across files', text: 'import cyc1', line: 1, col: 1, file: 'cyc2', re: /import cycle: .*cyc1 -> .*cyc2 -> .*cyc1/ },
      { name: 'a file importing itself', text: 'import self', line: 1, col: 1, file: 'self', re: /import cycle: .*self -> .*self/ },
      { name: 'the main file imported again', text: 'import Corefile', line: 1, col: 1, re: /import cycle: .*Corefile -> .*Corefile/ },
    ];
    for (const c of fileErrors) {
      it(`error: ${c.name}`, () => {
        if (c.name.startsWith('the main')) writeFileSync(join(dir, 'Corefile'), c.text);
        const err = configErrorOf(() => parseCorefile(c.text, join(dir, 'Corefile')));
        expect(err.code).to.equal('ERR_IMPORT');
        expect(err.pos).to.deep.equal({ file: join(dir, c.file ?? 'Corefile'), line: c.line, col: c.col });
        expect(err.message).to.match(c.re);
      });
    }

    it('an error inside an imported file names that file', () => {
      const err = configErrorOf(() => parseCorefile('. {\n  import bad.inc\n', join(dir, 'Corefile')));
      expect(err.code).to.equal('ERR_UNEXPECTED_BRACE');
      expect(err.pos).to.deep.equal({ file: join(dir, 'bad.inc'), line: 3, col: 1 });
    });

    it('stops at 10,000 imports', () => {
      writeFileSync(join(dir, 'one'), 'log\n');
      const text = `. {\n${'  import one\n'.repeat(10_001)}}`;
      const err = configErrorOf(() => parseCorefile(text, join(dir, 'Corefile')));
      expect(err.code).to.equal('ERR_IMPORT');
      expect(err.message).to.match(/more than 10000 imports/);
      expect(err.pos?.line).to.equal(10_002);
    });
  });
});
