// The CLI as a user runs it: flags, config errors with positions, a port in use, external plugins, SIGTERM.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import dgram from 'node:dgram';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { once } from 'node:events';
import { queryServer } from '../core/testing.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// The compiled CLI, as `npx nodens` runs it (npm test builds first); tsx only for .ts test plugins.
const CLI = path.join(ROOT, 'dist/bin/nodens.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run(args: string[], opts: { cwd?: string } = {}): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: opts.cwd ?? ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Starts the CLI and waits for the line that says where it serves; returns the port. */
async function serve(args: string[]): Promise<{ child: ChildProcess; port: number; output: () => string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', CLI, ...args], { cwd: ROOT });
  let out = '';
  child.stderr!.on('data', (d) => (out += d));
  const port = await new Promise<number>((resolve, reject) => {
    child.stdout!.on('data', (d) => {
      out += d;
      const m = /serving 127\.0\.0\.1:(\d+)/.exec(out);
      if (m) resolve(Number(m[1]));
    });
    child.on('close', (code) => reject(new Error(`nodens exited ${code}: ${out}`)));
  });
  return { child, port, output: () => out };
}

/** Waits for a condition that a child's output will make true (bounded: 10 s). */
async function waitFor(cond: () => boolean): Promise<void> {
  for (let i = 0; i < 200 && !cond(); i++) await new Promise((r) => setTimeout(r, 50));
  if (!cond()) throw new Error('condition not met within 10 s');
}

function tempCorefile(text: string): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-cli-'));
  const file = path.join(dir, 'Corefile');
  fs.writeFileSync(file, text);
  return file;
}

describe('nodens CLI', function () {
  this.timeout(30_000);

  it('-version prints the version', async () => {
    const r = await run(['-version']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.match(/^nodens-\d+\.\d+\.\d+\n/);
  });

  it('-plugins lists the registry in execution order', async () => {
    const r = await run(['-plugins']);
    expect(r.code).to.equal(0);
    const names = r.stdout.split('\n').filter((l) => l.startsWith('  dns.')).map((l) => l.trim().slice(4));
    for (const [a, b] of [['errors', 'log'], ['log', 'cache'], ['cache', 'hosts'], ['hosts', 'forward']] as const) {
      expect(names.indexOf(a), `${a} before ${b}`).to.be.below(names.indexOf(b));
    }
  });

  it('--validate accepts a good config without binding sockets', async () => {
    const file = tempCorefile('.:53 {\n  hosts {\n    10.0.0.1 a.example\n  }\n}\n');
    const r = await run(['-conf', file, '--validate']);
    expect(r.stderr).to.equal('');
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('OK');
  });

  const badConfigs = [
    { name: 'a misspelled directive', text: '.:53 {\n  hostz\n}\n', want: /Corefile:2:3: unknown directive 'hostz' \(did you mean 'hosts'\?\)/ },
    { name: 'an unclosed brace', text: '.:53 {\n  hosts\n', want: /Corefile:1:6: .*unclosed/i },
  ];
  for (const row of badConfigs) {
    it(`--validate rejects ${row.name} with file:line:col and exit 1`, async () => {
      const file = tempCorefile(row.text);
      const r = await run(['-conf', file, '--validate']);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.match(row.want);
    });
  }

  it('says so clearly when the config file is missing', async () => {
    const r = await run(['-conf', '/nonexistent/Corefile']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('cannot read config /nonexistent/Corefile: no such file');
  });

  it('rejects an unknown flag with the usage', async () => {
    const r = await run(['-nope']);
    expect(r.code).to.equal(1);
    expect(r.stderr).to.contain('unknown flag -nope');
    expect(r.stderr).to.contain('Usage: nodens');
  });

  it('says which address is in use when the port is taken', async () => {
    const taken = dgram.createSocket('udp4');
    await new Promise<void>((r) => taken.bind(0, '127.0.0.1', () => r()));
    const port = taken.address().port;
    try {
      const file = tempCorefile(`.:${port} {\n  bind 127.0.0.1\n  hosts {\n    10.0.0.1 a.example\n  }\n}\n`);
      const r = await run(['-conf', file]);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(`listen on 127.0.0.1:${port}: address already in use`);
    } finally {
      taken.close();
    }
  });

  it('loads an external plugin by path (--plugin) and runs it where it asked to be', async () => {
    const file = tempCorefile('.:0 {\n  bind 127.0.0.1\n  log\n  whoami\n}\n');
    const { child, port, output } = await serve(['-conf', file, '--plugin', './examples/custom-plugin/index.ts']);
    try {
      expect(output()).to.contain('chain: log -> whoami');
      const m = await queryServer('127.0.0.1', port, 'who.example', 'A');
      expect(m.additional.find((r) => r.type === 'A')).to.deep.include({ data: '127.0.0.1' });
      expect(m.additional.find((r) => r.type === 'SRV')).to.deep.include({ name: '_udp.who.example' });
    } finally {
      child.kill('SIGTERM');
      await once(child, 'close');
    }
  });

  it('on SIGTERM stops listening, finishes in-flight queries and exits 0', async () => {
    const file = tempCorefile('.:0 {\n  bind 127.0.0.1\n  slow 400\n  hosts {\n    10.0.0.9 slow.example\n  }\n}\n');
    const { child, port, output } = await serve(['-conf', file, '--plugin', './test/fixtures/slow-plugin.ts']);
    const answer = queryServer('127.0.0.1', port, 'slow.example', 'A');
    // Once the slow plugin says it holds the query, it is in flight: now ask the server to stop.
    await waitFor(() => output().includes('holding slow.example'));
    child.kill('SIGTERM');
    const m = await answer;
    expect(m.answer).to.deep.equal([{ name: 'slow.example', ttl: 3600, class: 'IN', type: 'A', data: '10.0.0.9' }]);
    const [code] = await once(child, 'close');
    expect(code).to.equal(0);
  });
});
