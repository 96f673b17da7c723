// `nodens kube2sky` as a user runs it: the compiled CLI against the API server stand-in and a real etcd,
// answered via dig by a second nodens that has only the etcd plugin; flag errors; SIGTERM/SIGINT exit 0.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import type { Etcd3 } from 'etcd3';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { startServer, type TestServer } from '../core/testing.js';
import { createClient } from '../plugins/etcd/client.js';
import { ipLabel } from '../plugins/etcd/kube2sky/records.js';
import { freePort, startEtcd, type EtcdFixture } from './fixtures/etcd.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { addWebAndDb, http80, namespace, service, slice } from './fixtures/k8s-objects.js';
import { digUntil } from './fixtures/dig-until.js';

const ROOT = path.resolve(import.meta.dirname, '..');
// The compiled CLI, as `npx nodens` runs it (npm test builds first).
const CLI = path.join(ROOT, 'dist/bin/nodens.js');

interface Run { code: number | null; stdout: string; stderr: string }

function run(args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    const child = spawn(process.execPath, [CLI, 'kube2sky', ...args], { cwd: ROOT });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

interface Sync { child: ChildProcess; output(): string; exited: Promise<number | null> }

/** Starts `nodens kube2sky ARGS` and waits (bounded) for `ready`, by default the line saying what it syncs. */
async function startSync(args: string[], ready?: () => boolean): Promise<Sync> {
  const child = spawn(process.execPath, [CLI, 'kube2sky', ...args], { cwd: ROOT });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
  await waitFor(() => (ready ? ready() : /plugin\/kube2sky: nodens-\S+ on node .* → etcd/.test(out)) || child.exitCode !== null, 15_000);
  if (child.exitCode !== null) throw new Error(`kube2sky exited ${child.exitCode}: ${out}`);
  return { child, output: () => out, exited };
}

async function waitFor(cond: () => boolean, ms = 10_000): Promise<void> {
  const end = performance.now() + ms;
  while (!cond() && performance.now() < end) await new Promise((r) => setTimeout(r, 20));
  if (!cond()) throw new Error(`condition not met within ${ms} ms`);
}

/** The exit code, or an error if the process is still running after `ms`. */
async function exitWithin(sync: Sync, ms: number): Promise<number | null> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`still running ${ms} ms after the signal:\n${sync.output()}`)), ms);
  });
  try {
    return await Promise.race([sync.exited, late]);
  } finally {
    clearTimeout(timer);
  }
}

/** Polls dig until its +short output (sorted) is `want`, for at most `ms`. */
describe('nodens kube2sky (CLI)', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture;
  let api: FakeApiServer;
  let client: Etcd3;
  let dns: TestServer;
  const children: ChildProcess[] = [];

  before(async () => {
    etcd = await startEtcd();
    api = await FakeApiServer.start();
    client = createClient({ endpoints: [etcd.endpoint] });
    addWebAndDb(api);
    // Non-default zone and path, so the test fails if the flags are not passed through.
    dns = await startServer(`cluster.test {\n  etcd {\n    path /k2s\n    endpoint ${etcd.endpoint}\n  }\n}\n`);
  });
  after(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) process.kill(c.pid!, 'SIGKILL');
    await dns?.close();
    client?.close();
    await api?.close();
    await etcd?.close();
    fs.rmSync(path.dirname(kubeconfig), { recursive: true, force: true });
  });

  const sync = async (args: string[], ready?: () => boolean): Promise<Sync> => {
    const s = await startSync(args, ready);
    children.push(s.child);
    return s;
  };

  it('writes the cluster into etcd, served via dig by a nodens with only the etcd plugin; SIGTERM exits 0', async () => {
    const s = await sync(['-zone', 'cluster.test', '-path', '/k2s', '-etcd', etcd.endpoint, '-endpoint', api.url, '-ttl', '60']);
    expect(await digUntil(dns, ['web.ns.svc.cluster.test', 'A'], '10.96.0.10')).to.equal('10.96.0.10');
    expect(await digUntil(dns, ['db.ns.svc.cluster.test', 'A'], '10.244.0.5\n10.244.0.6')).to.equal('10.244.0.5\n10.244.0.6');
    const web = ipLabel('10.96.0.10');
    expect(await digUntil(dns, ['_http._tcp.web.ns.svc.cluster.test', 'SRV'], `10 100 80 ${web}.web.ns.svc.cluster.test.`))
      .to.equal(`10 100 80 ${web}.web.ns.svc.cluster.test.`);
    expect(await dns.dig(['+noall', '+answer', 'web.ns.svc.cluster.test', 'A'])).to.match(/\s60\s+IN\s+A\s+10\.96\.0\.10/);
    const keys = Object.keys(await client.getAll().prefix('/k2s/test/cluster/svc/ns/').strings());
    expect(keys).to.include(`/k2s/test/cluster/svc/ns/web/${web}`);

    // It keeps following the cluster.
    api.add('services', service('ns', 'api', { clusterIPs: ['10.96.0.20'], ports: http80 }));
    expect(await digUntil(dns, ['api.ns.svc.cluster.test', 'A'], '10.96.0.20')).to.equal('10.96.0.20');

    process.kill(s.child.pid!, 'SIGTERM');
    expect(await exitWithin(s, 10_000)).to.equal(0);
    expect(s.output()).to.contain('SIGTERM: shutting down');
    expect(s.output()).not.to.match(/\[ERROR\]/);
  });

  it('a restart with nothing changed writes nothing (the store revision stays)', async () => {
    const before = (await client.get('/').exec()).header.revision;
    const s = await sync(['-zone', 'cluster.test', '-path', '/k2s', '-etcd', etcd.endpoint, '-endpoint', api.url, '-ttl', '60']);
    await waitFor(() => /services compared with etcd, \d+ written/.test(s.output()));
    expect(s.output()).to.match(/3 services compared with etcd, 0 written/);
    expect((await client.get('/').exec()).header.revision).to.equal(before);
    process.kill(s.child.pid!, 'SIGINT');
    expect(await exitWithin(s, 10_000)).to.equal(0);
    expect(s.output()).to.contain('SIGINT: shutting down');
  });

  it('stops cleanly on SIGTERM while etcd is unreachable', async () => {
    const dead = `http://127.0.0.1:${await freePort()}`;
    const watches = api.watchCount('services');
    // -quiet prints no start line: it is up once its Service watch is open.
    const s = await sync(['-etcd', dead, '-endpoint', api.url, '-quiet'], () => api.watchCount('services') > watches);
    process.kill(s.child.pid!, 'SIGTERM');
    expect(await exitWithin(s, 10_000)).to.equal(0);
    expect(s.output(), '-quiet: no INFO lines').not.to.contain('[INFO]');
  });

  it('-h prints the usage and exits 0', async () => {
    const r = await run(['-h']);
    expect(r.code).to.equal(0);
    expect(r.stdout).to.contain('Usage: nodens kube2sky');
    expect(r.stdout).to.contain('-kubeconfig FILE');
  });

  const kubeconfig = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-k2s-')), 'kubeconfig');
  fs.writeFileSync(kubeconfig, 'apiVersion: v1\nkind: Config\n');
  const bad = [
    { args: ['-nope'], want: 'unknown flag -nope' },
    { args: ['-etcd'], want: 'flag -etcd needs a value' },
    { args: ['-etcd', '127.0.0.1:2379'], want: "-etcd: '127.0.0.1:2379' is not a URL (like http://127.0.0.1:2379)" },
    { args: ['-etcd', 'localhost:2379'], want: "-etcd: 'localhost:2379' must be an http:// or https:// URL" },
    { args: ['-endpoint', 'not a url'], want: "-endpoint: 'not a url' is not a URL" },
    { args: ['-ttl', '-5'], want: "-ttl: '-5' is not a number of seconds" },
    { args: ['-path', 'skydns'], want: "-path: 'skydns' must start with /" },
    { args: ['-resync', 'often'], want: "-resync: 'often' is not a duration" },
    { args: ['-kubeconfig', '/nonexistent/kubeconfig'], want: '-kubeconfig: cannot read /nonexistent/kubeconfig: no such file' },
    { args: ['-kubeconfig', kubeconfig, '-endpoint', 'http://127.0.0.1:1'], want: '-kubeconfig and -endpoint exclude each other' },
    { args: ['-context', 'prod'], want: '-context needs -kubeconfig' },
    { args: ['cluster.local'], want: "unexpected argument 'cluster.local'" },
  ];
  for (const row of bad) {
    it(`rejects ${row.args.join(' ')} with a clear error and exit 1`, async () => {
      const r = await run(row.args);
      expect(r.code).to.equal(1);
      expect(r.stderr).to.contain(`nodens kube2sky: ${row.want}`);
      expect(r.stderr).to.contain('Usage: nodens kube2sky');
    });
  }
});
