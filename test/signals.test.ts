// Reload signals on the running CLI, as an operator sends them: SIGUSR1 and SIGHUP reload the config (CoreDNS's
// "SIGUSR1: Reloading"), and no signal opens Node's inspector on 127.0.0.1:9229 (what Node does on SIGUSR1 by
// default). Then the image's ENTRYPOINT, taken from the Dockerfile and run as it is.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { queryServer } from '../core/testing.js';
import { freePort } from './bench/processes.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// The compiled CLI, as the image and `npm start` run it (npm test builds first).
const CLI = path.join(ROOT, 'dist/bin/nodens.js');
const INSPECTOR_PORT = 9229;

interface Running { child: ChildProcess; port: number; output: () => string; waitFor: (re: RegExp) => Promise<void> }

/** Starts a command that runs the CLI and waits until it serves; `waitFor` awaits a line in its output. */
async function start(cmd: string, args: string[], port: number): Promise<Running> {
  const child = spawn(cmd, args, { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let exit: string | undefined;
  const waiters = new Set<() => void>();
  const wake = (): void => {
    for (const w of waiters) w();
  };
  child.stdout!.on('data', (d: Buffer) => {
    out += d;
    wake();
  });
  child.stderr!.on('data', (d: Buffer) => {
    out += d;
    wake();
  });
  child.on('exit', (code, signal) => {
    exit = `exited (${code ?? signal})`;
    wake();
  });
  // Resolves once the output matches; fails at once if the process ends first (a signal that kills it).
  const waitFor = (re: RegExp) => new Promise<void>((resolve, reject) => {
    const done = (err?: Error): void => {
      waiters.delete(check);
      clearTimeout(timer);
      if (err) reject(err);
      else resolve();
    };
    const check = (): void => {
      if (re.test(out)) done();
      else if (exit) done(new Error(`${exit} before ${re} in:\n${out}`));
    };
    const timer = setTimeout(() => done(new Error(`no ${re} within 10 s in:\n${out}`)), 10_000);
    waiters.add(check);
    check();
  });
  await waitFor(new RegExp(`serving 127\\.0\\.0\\.1:${port}`));
  return { child, port, output: () => out, waitFor };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = once(child, 'exit');
  child.kill('SIGTERM');
  await exited;
}

/** Whether something accepts TCP connections on 127.0.0.1:port. */
function listening(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const sock = net.connect({ host: '127.0.0.1', port });
    sock.once('connect', () => {
      sock.destroy();
      resolve(true);
    });
    sock.once('error', () => resolve(false));
  });
}

/** A Corefile that answers a.test with `address`, on 127.0.0.1:port. */
const corefile = (port: number, address: string) => `.:${port} {\n  bind 127.0.0.1\n  hosts {\n    ${address} a.test\n  }\n}\n`;

async function answerOf(port: number): Promise<string | undefined> {
  const m = await queryServer('127.0.0.1', port, 'a.test', 'A');
  return (m.answer[0] as { data?: unknown } | undefined)?.data as string | undefined;
}

const escape = (text: string) => text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Edits the Corefile, sends the signal to `pid`, and checks the reload: the signal's log line, `processes`
 * "reloaded" lines (one per server process), then the new answer.
 */
async function signalReloads(server: Running, file: string, pid: number, signal: 'SIGUSR1' | 'SIGHUP', logged: RegExp, processes = 1): Promise<void> {
  expect(await answerOf(server.port)).to.equal('10.0.0.1');
  fs.writeFileSync(file, corefile(server.port, '10.0.0.2'));
  process.kill(pid, signal);
  await server.waitFor(logged);
  await server.waitFor(new RegExp(`(reloaded ${escape(file)}[^]*){${processes}}`));
  expect(await answerOf(server.port)).to.equal('10.0.0.2');
}

function tempCorefile(port: number): string {
  const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-signals-')), 'Corefile');
  fs.writeFileSync(file, corefile(port, '10.0.0.1'));
  return file;
}

describe('reload signals', function () {
  this.timeout(30_000);

  before(async function () {
    // Every check below says "9229 stays closed"; something else holding it would make that meaningless.
    expect(await listening(INSPECTOR_PORT), `127.0.0.1:${INSPECTOR_PORT} is already taken on this machine`).to.equal(false);
  });

  for (const signal of ['SIGUSR1', 'SIGHUP'] as const) {
    it(`${signal} on \`node dist/bin/nodens.js\` reloads the config, and 127.0.0.1:${INSPECTOR_PORT} stays closed`, async () => {
      const port = await freePort();
      const file = tempCorefile(port);
      const server = await start(process.execPath, [CLI, '-conf', file], port);
      try {
        await signalReloads(server, file, server.child.pid!, signal, new RegExp(`\\[INFO\\] ${signal}: reloading`));
        expect(await listening(INSPECTOR_PORT), 'inspector port').to.equal(false);
        expect(server.output()).to.not.contain('Debugger listening');
        expect(server.child.exitCode, 'still running').to.equal(null);
      } finally {
        await stop(server.child);
      }
    });
  }

  it('a broken config on SIGHUP is logged with its position and the running one keeps serving', async () => {
    const port = await freePort();
    const file = tempCorefile(port);
    const server = await start(process.execPath, [CLI, '-conf', file], port);
    try {
      fs.writeFileSync(file, `.:${port} {\n  bind 127.0.0.1\n  nosuchplugin\n}\n`);
      server.child.kill('SIGHUP');
      await server.waitFor(/SIGHUP: reload failed, the running config keeps serving: .*Corefile:3/);
      expect(await answerOf(port)).to.equal('10.0.0.1');
    } finally {
      await stop(server.child);
    }
  });

  it('with --workers 2, SIGHUP to the primary reloads every worker', async () => {
    const port = await freePort();
    const file = tempCorefile(port);
    const server = await start(process.execPath, [CLI, '-conf', file, '--workers', '2'], port);
    try {
      await server.waitFor(/workers serving/);
      // Both workers, not only the first to log: each answers for itself, so each must have reloaded.
      await signalReloads(server, file, server.child.pid!, 'SIGHUP', /SIGHUP: reloading every worker/, 2);
      for (let i = 0; i < 10; i++) expect(await answerOf(port)).to.equal('10.0.0.2');
      expect(await listening(INSPECTOR_PORT), 'inspector port').to.equal(false);
    } finally {
      await stop(server.child);
    }
  });

  describe("the image's ENTRYPOINT", () => {
    const dockerfile = fs.readFileSync(path.join(ROOT, 'Dockerfile'), 'utf8');
    const entrypoint = JSON.parse(/^ENTRYPOINT\s+(\[.*\])\s*$/m.exec(dockerfile)![1]!) as string[];

    it('is dumb-init rewriting SIGUSR1 to SIGHUP, in front of node --disable-sigusr1 and the CLI', () => {
      expect(entrypoint).to.deep.equal(['dumb-init', '--single-child', '--rewrite', '10:1', '--', 'node', '--disable-sigusr1', 'dist/bin/nodens.js']);
      expect(os.constants.signals.SIGUSR1).to.equal(10);
      expect(os.constants.signals.SIGHUP).to.equal(1);
    });

    it('run as is: SIGUSR1 to PID 1 (dumb-init) reloads; SIGUSR1 straight to node neither reloads nor opens the inspector', async function () {
      // The image runs Node 24, which has the flag (CI's main run is on it); Node 20 rejects it.
      if (!process.allowedNodeEnvironmentFlags.has('--disable-sigusr1')) this.skip();
      const [init, ...args] = entrypoint.map((a) => (a === 'node' ? process.execPath : a === 'dist/bin/nodens.js' ? CLI : a));
      const port = await freePort();
      const file = tempCorefile(port);
      const server = await start(init!, [...args, '-conf', file], port);
      try {
        await signalReloads(server, file, server.child.pid!, 'SIGUSR1', /\[INFO\] SIGHUP: reloading/);
        const node = Number(fs.readFileSync(`/proc/${server.child.pid}/task/${server.child.pid}/children`, 'utf8').trim());
        expect(fs.readFileSync(`/proc/${node}/cmdline`, 'utf8').split('\0')).to.include('--disable-sigusr1');
        const before = server.output().length;
        process.kill(node, 'SIGUSR1');
        // The flag blocks SIGUSR1 in every thread: it stays pending (bit 10 of ShdPnd), and nothing runs.
        const pending = BigInt(`0x${/ShdPnd:\s*([0-9a-f]+)/.exec(fs.readFileSync(`/proc/${node}/status`, 'utf8'))![1]}`);
        expect(pending & (1n << 9n), 'SIGUSR1 pending').to.not.equal(0n);
        expect(server.output().slice(before)).to.not.match(/SIGUSR1|Debugger listening/);
        expect(await listening(INSPECTOR_PORT), 'inspector port').to.equal(false);
      } finally {
        await stop(server.child);
      }
    });
  });
});
