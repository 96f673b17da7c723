// The author's kit as an outside author meets it: nodens packed with `npm pack` and installed from the
// tarball into a temporary copy of examples/custom-plugin (a package of its own), which is compiled
// with tsc (strict) against the installed types, runs its own tests (node --test, nodens/testing), and
// is loaded into the installed CLI with `--plugin NAME` from a user's folder and queried with dig.
// docs/writing-a-plugin.md's files are written into a second package and go through the same steps.
// Needs the root build (dist/): `npm test` builds first. One install, from the npm cache when it can.
// The root suite still imports the example in place (README and CLI tests): there its `nodens` is this
// source tree through tsconfig.json's `paths` (tsx reads them too), since Node would not find nodens
// from a package folder of its own. Its own tests (node:test) run only here, against the tarball.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { expect } from 'chai';
import { dig, freePort } from 'nodens/testing';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const EXAMPLE = path.join(ROOT, 'examples/custom-plugin');
const GUIDE = path.join(ROOT, 'docs/writing-a-plugin.md');
// npm and `node --test` run on the Node that runs this suite.
const ENV = { ...process.env, PATH: `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ''}` };

interface Run { code: number | null; stdout: string; stderr: string }

function run(cmd: string, args: readonly string[], cwd: string, timeoutMs = 60_000): Promise<Run> {
  return new Promise((resolve) => {
    execFile(cmd, args, { cwd, env: ENV, timeout: timeoutMs, maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr });
    });
  });
}

function ok(r: Run, what: string): Run {
  if (r.code !== 0) throw new Error(`${what} failed (exit ${r.code}):\n${r.stdout}\n${r.stderr}`);
  return r;
}

/** What a sample typed through the public API never needs. */
const UNTYPED = /:\s*any\b|\bas any\b|<any>|\bany\[\]|as never|@ts-(ignore|expect-error|nocheck)/;

/** The `node --test` summary: tests passed and failed (spec or TAP reporter). */
function testCounts(out: string): { pass: number; fail: number } {
  const num = (label: string): number => Number(new RegExp(`^\\S* ?${label} (\\d+)$`, 'm').exec(out)?.[1] ?? NaN);
  return { pass: num('pass'), fail: num('fail') };
}

/** The guide's files: every fenced block whose info string names one (```ts file=src/alias.ts). */
export function guideFiles(markdown: string): { files: Map<string, string>; untagged: string[] } {
  const files = new Map<string, string>();
  const untagged: string[] = [];
  for (const m of markdown.matchAll(/^```(\S+)([^\n]*)\n([\s\S]*?)^```$/gm)) {
    const [, lang, info, body] = m;
    const file = /\bfile=(\S+)/.exec(info!)?.[1];
    if (file) files.set(file, body!);
    else if (lang === 'ts') untagged.push(body!.split('\n')[0]!);
  }
  return { files, untagged };
}

/** Copies the example's own files (not a dist/ or node_modules/ an author may have in it). */
function copyExample(to: string, tarball: string): void {
  fs.mkdirSync(to);
  for (const f of fs.readdirSync(EXAMPLE)) {
    if (f === 'dist' || f === 'node_modules' || f === 'package-lock.json') continue;
    fs.cpSync(path.join(EXAMPLE, f), path.join(to, f), { recursive: true });
  }
  // In the repository nodens is `file:../..`; here it is the packed tarball, as a registry would give it.
  const manifest = JSON.parse(fs.readFileSync(path.join(to, 'package.json'), 'utf8')) as { devDependencies: Record<string, string> };
  manifest.devDependencies.nodens = `file:${tarball}`;
  fs.writeFileSync(path.join(to, 'package.json'), `${JSON.stringify(manifest, null, 2)}\n`);
}

describe('author kit: a plugin package built and tested against the packed nodens', function () {
  this.timeout(180_000);
  let tmp: string;
  let example: string;
  let guide: string;

  before(async function () {
    if (!fs.existsSync(path.join(ROOT, 'dist/core/testing.d.ts'))) throw new Error('dist/ is missing: run `npm run build` first');
    tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-author-'));
    // The root build already ran (npm test builds first): pack what it built, without running prepare again.
    const pack = ok(await run('npm', ['pack', '--ignore-scripts', '--silent', '--pack-destination', tmp], ROOT), 'npm pack');
    const tarball = path.join(tmp, pack.stdout.trim().split('\n').pop()!);
    example = path.join(tmp, 'whoami');
    copyExample(example, tarball);
    // --prefer-offline: the root's `npm ci` has cached every dependency; the registry only if it has not.
    ok(await run('npm', ['install', '--prefer-offline', '--no-audit', '--no-fund', '--ignore-scripts', '--loglevel=error'], example, 150_000), 'npm install');

    // The guide's package shares the example's node_modules (the same devDependencies).
    guide = path.join(tmp, 'alias');
    const { files } = guideFiles(fs.readFileSync(GUIDE, 'utf8'));
    for (const [file, text] of files) {
      fs.mkdirSync(path.dirname(path.join(guide, file)), { recursive: true });
      fs.writeFileSync(path.join(guide, file), text);
    }
    fs.symlinkSync(path.join(example, 'node_modules'), path.join(guide, 'node_modules'), 'dir');
  });

  after(() => {
    if (tmp) fs.rmSync(tmp, { recursive: true, force: true });
  });

  it('installs nodens from the tarball, not from the repository', () => {
    const installed = path.join(example, 'node_modules/nodens');
    expect(fs.lstatSync(installed).isSymbolicLink(), 'a real copy, not a link to the repository').to.equal(false);
    expect(fs.existsSync(path.join(installed, 'dist/core/testing.d.ts'))).to.equal(true);
    // Only what `files` ships: no TypeScript sources to fall back on.
    expect(fs.existsSync(path.join(installed, 'core'))).to.equal(false);
  });

  describe('examples/custom-plugin', () => {
    it('uses only public, typed API (no any, no casts to never, no ts-ignore)', () => {
      for (const f of fs.readdirSync(EXAMPLE).filter((n) => n.endsWith('.ts'))) {
        const text = fs.readFileSync(path.join(EXAMPLE, f), 'utf8');
        expect(text, f).not.to.match(UNTYPED);
        expect(text, f).not.to.match(/from '\.\.\/|from 'nodens\/(?!testing')/);
      }
    });

    it('compiles strict against the installed types and its own tests pass (`npm test` in the package)', async () => {
      const r = ok(await run('npm', ['test'], example, 90_000), 'npm test in the example');
      const counts = testCounts(r.stdout);
      expect(counts.fail, r.stdout).to.equal(0);
      expect(counts.pass, r.stdout).to.be.at.least(8);
      expect(fs.existsSync(path.join(example, 'dist/index.d.ts'))).to.equal(true);
    });

    it('is loaded by the installed CLI with --plugin NAME from the user\'s folder, and answers dig', async function () {
      if (!fs.existsSync(path.join(example, 'dist/index.js'))) this.skip(); // the compile test failed already
      // The user's folder: a Corefile, and the plugin installed in its node_modules (what `npm install
      // ../nodens-plugin-whoami` makes: a link).
      const user = path.join(tmp, 'user');
      fs.mkdirSync(path.join(user, 'node_modules'), { recursive: true });
      fs.symlinkSync(example, path.join(user, 'node_modules/nodens-plugin-whoami'), 'dir');
      const port = await freePort();
      fs.writeFileSync(path.join(user, 'Corefile'), `example.org:${port} {\n  bind 127.0.0.1\n  log\n  whoami\n}\n`);
      const cli = path.join(example, 'node_modules/nodens/dist/bin/nodens.js');
      const child = spawn(process.execPath, [cli, '-conf', 'Corefile', '--plugin', 'nodens-plugin-whoami'], { cwd: user, env: ENV });
      try {
        await serving(child);
        const out = await dig('127.0.0.1', port, ['example.org', 'A']);
        expect(out).to.match(/status: NOERROR/);
        expect(out).to.match(/^example\.org\.\s+0\s+IN\s+A\s+127\.0\.0\.1$/m);
        expect(out).to.match(/^_udp\.example\.org\.\s+0\s+IN\s+SRV\s+0 0 \d+ \.$/m);
      } finally {
        child.kill('SIGTERM');
      }
      // The plugin's config errors, from its own copy of nodens's helpers, point at the token.
      fs.writeFileSync(path.join(user, 'Bad'), `example.org:${port} {\n  whoami extra\n}\n`);
      const bad = await run(process.execPath, [cli, '-conf', 'Bad', '--plugin', 'nodens-plugin-whoami', '--validate'], user);
      expect(bad.code).to.equal(1);
      expect(bad.stderr).to.match(/^Bad:2:10: .*whoami.*want 0, got 1/m);
    });
  });

  describe('docs/writing-a-plugin.md', () => {
    it('tags every TypeScript sample with its file, and has the package, the plugin and its tests', () => {
      const { files, untagged } = guideFiles(fs.readFileSync(GUIDE, 'utf8'));
      expect(untagged, 'a ```ts block without file=').to.deep.equal([]);
      expect([...files.keys()]).to.include.members(['package.json', 'tsconfig.json', 'src/index.ts', 'src/setup.ts', 'src/alias.ts', 'src/alias.test.ts']);
      for (const [file, text] of files) if (file.endsWith('.ts')) expect(text, file).not.to.match(UNTYPED);
    });

    it('its samples compile strict against the installed types and their tests pass', async () => {
      const r = ok(await run('npm', ['test'], guide, 90_000), 'npm test in the guide\'s package');
      const counts = testCounts(r.stdout);
      expect(counts.fail, r.stdout).to.equal(0);
      expect(counts.pass, r.stdout).to.be.at.least(12);
    });
  });
});

/** Resolves once the CLI logs that it is serving; rejects with its output if it exits first. */
function serving(child: ChildProcess): Promise<void> {
  return new Promise((resolve, reject) => {
    let out = '';
    const onData = (chunk: Buffer): void => {
      out += chunk.toString();
      if (/ serving /.test(out)) resolve();
    };
    child.stdout!.on('data', onData);
    child.stderr!.on('data', onData);
    child.on('exit', (code) => reject(new Error(`nodens exited (${code}) before serving:\n${out}`)));
  });
}
