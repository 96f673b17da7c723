// The CLI checks a config like a compiler: `nodens FILE`, every error with a count, -dns.port under
// --validate, warnings once, plugins resolved from the user's folder. Runs the built CLI (npm run build).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '..');
const CLI = path.join(ROOT, 'dist/bin/nodens.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run(args: string[], cwd: string, untilStdout?: RegExp): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, ...args], { cwd });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
      if (untilStdout?.test(stdout)) child.kill('SIGTERM');
    });
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** A plugin package as npm would install it: ESM only (an `import` export), no dependency on nodens. */
const HELLO_PACKAGE = {
  'package.json': JSON.stringify({
    name: 'nodens-plugin-hello', version: '1.0.0', type: 'module', exports: { '.': { import: './index.js' } }, peerDependencies: { nodens: '*' },
  }),
  'index.js': `
// Throws a ConfigError of its own copy of nodens: recognised by its fields.
class ConfigError extends Error {
  constructor(pos, plugin, detail, code) {
    super(pos.file + ':' + pos.line + ':' + pos.col + ': plugin/' + plugin + ': ' + detail);
    this.name = 'ConfigError'; this.pos = pos; this.plugin = plugin; this.detail = detail; this.code = code;
  }
}
export default {
  name: 'hello', schema: { type: 'object' },
  parse(d) {
    for (const p of d.block ?? []) throw new ConfigError(p.name.pos, 'hello', "unknown property '" + p.name.text + "'", 'ERR_UNKNOWN_PROPERTY');
    return {};
  },
  setup: () => ({ serve: (req, next) => next() }),
};`,
};

describe('nodens CLI: config checking', function () {
  this.timeout(30_000);
  let dir: string;
  const write = (name: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
    fs.writeFileSync(path.join(dir, name), text);
  };
  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-cli-config-'));
    for (const [name, text] of Object.entries(HELLO_PACKAGE)) write(`node_modules/nodens-plugin-hello/${name}`, text);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('`nodens FILE` is `nodens -conf FILE`', async () => {
    write('ok.Corefile', '.:0 {\n  bind 127.0.0.1\n  log\n}\n');
    const r = await run(['--validate', 'ok.Corefile'], dir);
    expect(r).to.include({ code: 0, stdout: 'ok.Corefile: OK\n' });
    const two = await run(['--validate', 'ok.Corefile', 'other'], dir);
    expect(two.code).to.equal(1);
    expect(two.stderr).to.match(/unexpected argument 'other' \(the config is already ok\.Corefile\)/);
  });

  it('prints every error with its caret, then the count, and exits 1', async () => {
    write('bad.Corefile', '. {\n  hosts {\n    fallthru\n  }\n  cache thirty\n  errrors\n}\n');
    const r = await run(['--validate', 'bad.Corefile'], dir);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.equal([
      "bad.Corefile:3:5: plugin/hosts: unknown property 'fallthru' (did you mean 'fallthrough'?)",
      '        fallthru',
      '        ^',
      "bad.Corefile:5:9: plugin/cache: 'thirty' is read as a zone here, but it looks like a number; write 'thirty.' if it is a zone",
      '      cache thirty',
      '            ^',
      "bad.Corefile:6:3: unknown directive 'errrors' (did you mean 'errors'?)",
      '      errrors',
      '      ^',
      '3 errors in bad.Corefile',
      '',
    ].join('\n'));
  });

  it('--validate honours -dns.port for the duplicate zone check', async () => {
    write('ports.Corefile', '.:53 {\n  log\n}\n. {\n  log\n}\n');
    const rows: { args: string[]; code: number; out: RegExp }[] = [
      { args: ['-dns.port', '1053'], code: 0, out: /^ports\.Corefile: OK\n$/ },
      { args: [], code: 1, out: /ports\.Corefile:4:1: zone '\.' on port 53 is already served \(by the key at ports\.Corefile:1:1\)/ },
    ];
    for (const row of rows) {
      const r = await run(['--validate', ...row.args, 'ports.Corefile'], dir);
      expect(r.code, r.stderr).to.equal(row.code);
      expect(row.code === 0 ? r.stdout : r.stderr).to.match(row.out);
    }
  });

  it('prints warnings once, under --validate and at start-up', async () => {
    write('warn.Corefile', '.:0 {\n  bind 127.0.0.1\n  import conf.d/*.conf\n  forward . 127.0.0.1:9\n  hosts {\n    10.0.0.1 a.example\n  }\n}\n');
    const validate = await run(['--validate', 'warn.Corefile'], dir);
    expect(validate.code, validate.stderr).to.equal(0);
    const start = await run(['warn.Corefile'], dir, /serving /);
    for (const out of [validate.stdout, start.stdout]) {
      expect(out.match(/no files matching import glob pattern/g), out).to.have.length(1);
      expect(out.match(/forward can never answer: hosts \(at 5:3\)/g), out).to.have.length(1);
    }
    expect(validate.stdout).to.match(/warn\.Corefile: OK \(2 warnings\)\n$/);
  });

  it('--plugin NAME resolves from the current folder; its errors keep one clean position', async () => {
    write('hello.Corefile', '.:0 {\n  bind 127.0.0.1\n  hello\n}\n');
    expect(await run(['--plugin', 'nodens-plugin-hello', '--validate', 'hello.Corefile'], dir)).to.include({ code: 0, stdout: 'hello.Corefile: OK\n' });
    write('hello-bad.Corefile', '. {\n  hello {\n    gretting hi\n  }\n}\n');
    const bad = await run(['--plugin', 'nodens-plugin-hello', '--validate', 'hello-bad.Corefile'], dir);
    expect(bad.code).to.equal(1);
    expect(bad.stderr.split('\n')[0]).to.equal("hello-bad.Corefile:3:5: plugin/hello: unknown property 'gretting'");
    expect(bad.stderr).to.not.match(/plugin\/hello: .*plugin\/hello:/);
  });

  it('an unknown directive names the installed nodens package that may hold it, not any package of that name', async () => {
    write('hello.Corefile', '.:0 {\n  bind 127.0.0.1\n  hello\n  frobnicate\n}\n');
    write('node_modules/frobnicate/package.json', JSON.stringify({ name: 'frobnicate', version: '1.0.0' }));
    const r = await run(['--validate', 'hello.Corefile'], dir);
    expect(r.code).to.equal(1);
    expect(r.stderr.split('\n').filter((l) => l.includes('unknown directive'))).to.deep.equal([
      "hello.Corefile:3:3: unknown directive 'hello' (the package 'nodens-plugin-hello' is installed: load it with --plugin nodens-plugin-hello)",
      "hello.Corefile:4:3: unknown directive 'frobnicate'",
    ]);
  });
});
