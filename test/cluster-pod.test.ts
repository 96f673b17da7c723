// The cluster DNS pod end to end: CoreDNS's stock kube-system Corefile (Corefile.example) with only its
// addresses and ports moved to loopback, the API server stand-in behind `kubernetes`, dnsmasq behind `forward`.
// Health, readiness, metrics, reload (broken and good) and loop detection, as an operator would see them.
import { expect } from 'chai';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { createServer } from '../core/create.js';
import { createLogger } from '../core/log.js';
import type { Message } from '../core/message.js';
import type { DnsServer } from '../core/server.js';
import { queryServer, startServer, type TestServer } from '../core/testing.js';
import { freePort } from '../plugins/pkg/test-env.js';
import { freeDnsPort, startDnsmasq, type Dnsmasq } from './fixtures/dnsmasq.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { http80, namespace, service, slice } from './fixtures/k8s-objects.js';

const STOCK = readFileSync(fileURLToPath(new URL('../Corefile.example', import.meta.url)), 'utf8');

interface Ports {
  dns: number;
  health: number;
  ready: number;
  metrics: number;
  api: string;
  upstream: string;
}

/** Replaces `from` (which must occur exactly once) in `text`, so that a change to Corefile.example fails loudly here. */
function replaceOnce(text: string, from: string, to: string): string {
  const at = text.indexOf(from);
  if (at < 0 || text.indexOf(from, at + 1) >= 0) throw new Error(`Corefile.example: expected exactly one '${from}'`);
  return text.slice(0, at) + to + text.slice(at + from.length);
}

/** The stock Corefile with loopback addresses, the stand-in's URL, and the shortest reload interval (2s). */
function loopbackCorefile(p: Ports): string {
  let text = STOCK;
  text = replaceOnce(text, '.:53 {', `.:${p.dns} {`);
  text = replaceOnce(text, 'health {', `health 127.0.0.1:${p.health} {`);
  text = replaceOnce(text, '    ready\n', `    ready 127.0.0.1:${p.ready}\n`);
  text = replaceOnce(text, 'ip6.arpa {\n', `ip6.arpa {\n       endpoint ${p.api}\n`);
  text = replaceOnce(text, 'prometheus :9153', `prometheus 127.0.0.1:${p.metrics}`);
  text = replaceOnce(text, 'forward . /etc/resolv.conf', `forward . ${p.upstream}`);
  text = replaceOnce(text, '    reload\n', '    reload 2s 1s\n');
  return text;
}

/** Polls `probe` every 50 ms until it returns a truthy value, for at most `ms`. */
async function until<T>(what: string, ms: number, probe: () => Promise<T> | T): Promise<NonNullable<T>> {
  const end = Date.now() + ms;
  let last: unknown;
  for (;;) {
    try {
      const v = await probe();
      if (v) return v;
      last = v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out after ${ms} ms waiting for ${what} (last: ${String(last)})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

async function get(url: string): Promise<[number, string]> {
  const res = await fetch(url);
  return [res.status, await res.text()];
}

/** The sum of a metric's samples whose labels include every `labels` pair. */
function metricSum(text: string, name: string, labels: Record<string, string> = {}): number {
  let sum = 0;
  for (const line of text.split('\n')) {
    const m = /^([a-z_:]+)(?:\{(.*)\})? (\S+)$/.exec(line);
    if (!m || m[1] !== name) continue;
    const have = new Map([...(m[2] ?? '').matchAll(/(\w+)="((?:[^"\\]|\\.)*)"/g)].map((l) => [l[1]!, l[2]!]));
    if (Object.entries(labels).every(([k, v]) => have.get(k) === v)) sum += Number(m[3]);
  }
  return sum;
}

const addresses = (m: Message): unknown[] => m.answer.filter((a) => a.type === 'A').map((a) => a.data).sort();

describe('cluster DNS pod: the stock Corefile on loopback', function () {
  this.timeout(60_000);
  let dir: string;
  let file: string;
  let api: FakeApiServer;
  let upstream: Dnsmasq;
  let server: DnsServer | undefined;
  let looping: TestServer | undefined;
  const logs: string[] = [];
  const fatals: string[] = [];
  const p = {} as Ports;
  const q = (name: string, type = 'A', transport: 'udp' | 'tcp' = 'udp') => queryServer('127.0.0.1', p.dns, name, type, { transport });
  const url = (port: number, path: string) => `http://127.0.0.1:${port}${path}`;
  const reloads = () => logs.filter((l) => l.includes(`reloaded ${file}`)).length;

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'nodens-cluster-pod-'));
    file = join(dir, 'Corefile');
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('default'), namespace('kube-system'));
    api.add('services',
      service('default', 'kubernetes', { clusterIPs: ['10.96.0.1'], ports: [{ name: 'https', port: 443, protocol: 'TCP' }] }),
      service('default', 'web', { ports: http80 }));
    api.add('endpointslices', slice('default', 'web-a', 'web', [{ ip: '10.244.1.5' }, { ip: '10.244.1.6' }], http80));
    // The first list does not complete until the test says so: /ready must fail until then.
    api.holdLists();
    upstream = await startDnsmasq({ args: ['--address=/example.test/192.0.2.10'], probe: 'www.example.test' });
    Object.assign(p, {
      dns: await freeDnsPort(), health: await freePort(), ready: await freePort(), metrics: await freePort(),
      api: api.url, upstream: `127.0.0.1:${upstream.port}`,
    });
    writeFileSync(file, loopbackCorefile(p));
    // From the file (not its text), so that reload re-reads what the test writes.
    server = await createServer({
      file, defaultBind: ['127.0.0.1'], env: {},
      logger: createLogger({ sink: { write: (line) => logs.push(line) } }),
      onFatal: (m) => fatals.push(m),
    });
  });

  after(async () => {
    await Promise.all([server?.close(), looping?.close()]);
    await api?.close();
    await upstream?.stop();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('/health answers 200 OK while it serves', async () => {
    expect(await get(url(p.health, '/health'))).to.deep.equal([200, 'OK']);
  });

  it('/ready is 503 naming kubernetes until the API list completes, then 200', async () => {
    // kubernetes waited its 5s startup_timeout and let the server start unsynced.
    expect(logs.some((l) => l.includes('starting server with unsynced Kubernetes API'))).to.equal(true);
    await until('the held lists', 5000, () => api.heldListCount() > 0);
    expect(await get(url(p.ready, '/ready'))).to.deep.equal([503, 'kubernetes']);
    api.releaseLists();
    await until('/ready 200', 10_000, async () => (await get(url(p.ready, '/ready')))[0] === 200);
    expect(await get(url(p.ready, '/ready'))).to.deep.equal([200, 'OK']);
  });

  it('answers cluster names from the API index and forwards external names to dnsmasq', async () => {
    const svc = await q('kubernetes.default.svc.cluster.local');
    expect(addresses(svc)).to.deep.equal(['10.96.0.1']);
    expect(svc.answer[0]!.ttl, 'ttl 30').to.equal(30);
    expect(addresses(await q('web.default.svc.cluster.local', 'A', 'tcp'))).to.deep.equal(['10.244.1.5', '10.244.1.6']);
    expect(addresses(await q('10-1-2-3.default.pod.cluster.local')), 'pods insecure').to.deep.equal(['10.1.2.3']);
    const ptr = await q('1.0.96.10.in-addr.arpa', 'PTR');
    expect(ptr.answer.map((a) => a.data)).to.deep.equal(['kubernetes.default.svc.cluster.local']);
    expect(addresses(await q('www.example.test'))).to.deep.equal(['192.0.2.10']);
    expect((await q('nope.default.svc.cluster.local')).rcode, 'NXDOMAIN').to.equal(3);
  });

  it('/metrics: request and response counters move with queries', async () => {
    const zone = { server: `dns://:${p.dns}`, zone: '.' };
    const before = await get(url(p.metrics, '/metrics'));
    expect(before[0]).to.equal(200);
    // Not asked before (so not cached): kubernetes answers the first, dnsmasq the other two.
    const names = ['10-9-8-7.default.pod.cluster.local', 'www.example.test', 'other.example.test'];
    for (const name of names) await q(name, 'A');
    await q('www.example.test', 'A', 'tcp');
    const [, after] = await get(url(p.metrics, '/metrics'));
    const delta = (name: string, labels: Record<string, string>) => metricSum(after, name, labels) - metricSum(before[1], name, labels);
    expect(delta('coredns_dns_requests_total', { ...zone, type: 'A', proto: 'udp' })).to.equal(3);
    expect(delta('coredns_dns_requests_total', { ...zone, type: 'A', proto: 'tcp' })).to.equal(1);
    expect(delta('coredns_dns_responses_total', { ...zone, rcode: 'NOERROR', plugin: 'kubernetes' })).to.equal(1);
    expect(delta('coredns_dns_responses_total', { ...zone, rcode: 'NOERROR' })).to.equal(4);
    expect(delta('coredns_dns_request_duration_seconds_count', { ...zone, type: 'A' })).to.equal(4);
    // www.example.test A was answered before: this time it came from the cache.
    expect(delta('coredns_cache_hits_total', { server: `dns://:${p.dns}` })).to.be.at.least(1);
    for (const name of ['coredns_build_info', 'coredns_plugin_enabled', 'coredns_forward_max_concurrent_rejects_total', 'coredns_proxy_request_duration_seconds_count']) {
      expect(after, name).to.match(new RegExp(`^${name}\\b`, 'm'));
    }
  });

  it('a Corefile with a syntax error is logged with its file:line:col and the old config keeps serving', async () => {
    const good = readFileSync(file, 'utf8');
    const lines = good.split('\n');
    const at = lines.indexOf('    cache 30');
    lines.splice(at + 1, 0, '    hosts "/etc/hosts');
    writeFileSync(file, lines.join('\n'));
    const failed = await until('the reload error', 10_000, () => logs.find((l) => l.includes('reload failed')));
    expect(failed).to.equal(`[ERROR] plugin/reload: Corefile changed but reload failed: ${file}:${at + 2}:11: unterminated quoted string`);
    expect(addresses(await q('kubernetes.default.svc.cluster.local'))).to.deep.equal(['10.96.0.1']);
    expect(addresses(await q('www.example.test'))).to.deep.equal(['192.0.2.10']);
    expect(await get(url(p.health, '/health'))).to.deep.equal([200, 'OK']);
    expect(await get(url(p.ready, '/ready'))).to.deep.equal([200, 'OK']);
    // Fixed again: a changed checksum, so the good config is loaded anew.
    writeFileSync(file, good);
    await until('the good config back', 10_000, () => reloads() === 1);
  });

  it('a Corefile with a new zone is served after reload, and no query of a stream running through it is lost', async () => {
    const metricsBefore = (await get(url(p.metrics, '/metrics')))[1];
    let stop = false;
    let sent = 0;
    let afterReload = 0;
    const lost: string[] = [];
    const reloadsBefore = reloads();
    const stream = async (name: string, want: string) => {
      while (!stop) {
        sent++;
        const answer = await q(name).catch((err: Error) => err);
        if (answer instanceof Error) lost.push(`${name}: ${answer.message}`);
        else if (answer.rcode !== 0 || addresses(answer)[0] !== want) lost.push(`${name}: ${answer.rcode} ${JSON.stringify(answer.answer)}`);
        if (reloads() > reloadsBefore) afterReload++;
      }
    };
    const streams = [
      stream('kubernetes.default.svc.cluster.local', '10.96.0.1'), stream('web.default.svc.cluster.local', '10.244.1.5'),
      stream('www.example.test', '192.0.2.10'), stream('kubernetes.default.svc.cluster.local', '10.96.0.1'),
    ];
    try {
      await until('the stream to start', 5000, () => sent >= 20);
      expect((await q('a.new.test')).answer, 'not served before the reload').to.deep.equal([]);
      writeFileSync(file, `${readFileSync(file, 'utf8')}\nnew.test:${p.dns} {\n    hosts {\n        10.9.9.9 a.new.test\n    }\n}\n`);
      const fresh = await until('the new zone', 15_000, async () => {
        const m = await q('a.new.test');
        return addresses(m).length > 0 ? m : undefined;
      });
      expect(addresses(fresh)).to.deep.equal(['10.9.9.9']);
      await until('queries after the reload', 5000, () => afterReload >= 40);
    } finally {
      stop = true;
      await Promise.all(streams);
    }
    expect(lost.slice(0, 5), `${lost.length} lost of ${sent}`).to.deep.equal([]);
    expect(sent).to.be.greaterThan(60);
    // The old block still serves the rest, and the HTTP endpoints came through the reload.
    expect(addresses(await q('www.example.test'))).to.deep.equal(['192.0.2.10']);
    expect(await get(url(p.health, '/health'))).to.deep.equal([200, 'OK']);
    expect(await get(url(p.ready, '/ready'))).to.deep.equal([200, 'OK']);
    // Counters survive the reload (one registry per process): every query of the stream is in them.
    // (new.test has no prometheus in its block, so, as in CoreDNS, its queries are not counted.)
    const metricsAfter = (await get(url(p.metrics, '/metrics')))[1];
    const requests = (text: string) => metricSum(text, 'coredns_dns_requests_total', { server: `dns://:${p.dns}`, zone: '.', type: 'A' });
    expect(requests(metricsAfter) - requests(metricsBefore)).to.be.at.least(sent);
    expect(metricsAfter).not.to.contain('zone="new.test."');
    // The replaced configs' kubernetes watches were closed: one watch per resource is left.
    await until('old watches to close', 5000, () => api.watchCount() === 3);
    expect(['services', 'namespaces', 'endpointslices'].map((k) => api.watchCount(k as 'services'))).to.deep.equal([1, 1, 1]);
  });

  it('`forward . <its own address>` with loop stops the server with CoreDNS\'s message', async () => {
    const own: Ports = { ...p, dns: await freeDnsPort(), health: await freePort(), ready: await freePort(), metrics: await freePort() };
    own.upstream = `127.0.0.1:${own.dns}`;
    const seen: string[] = [];
    looping = await startServer(loopbackCorefile(own), { onFatal: (m) => seen.push(m), env: {} });
    await until('the loop to be detected', 30_000, () => seen.length > 0);
    await looping.close();
    expect(seen).to.have.length(1);
    expect(seen[0]).to.match(new RegExp(
      `^Loop \\(127\\.0\\.0\\.1:\\d+ -> 127\\.0\\.0\\.1:${own.dns}\\) detected for zone "\\.", see https://coredns\\.io/plugins/loop#troubleshooting\\. Query: "HINFO \\d+\\.\\d+\\."$`,
    ));
    expect(looping.logs.some((l) => l.startsWith('[ERROR] plugin/loop: Loop ('))).to.equal(true);
    expect(fatals, 'the main server saw no loop').to.deep.equal([]);
  });

  it('on shutdown /health fails at once while DNS keeps answering for the lameduck 5s', async () => {
    const closing = server!.close();
    await until('/health to fail', 3000, async () => (await get(url(p.health, '/health')).catch(() => [0, '']))[0] !== 200);
    expect(addresses(await q('kubernetes.default.svc.cluster.local'))).to.deep.equal(['10.96.0.1']);
    expect((await get(url(p.ready, '/ready')))[0]).to.equal(503);
    await closing;
    server = undefined;
  });
});
