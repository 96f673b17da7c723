// The wire fast path's promise (docs/fast-path.md): every fast answer is the ordinary path's answer, byte
// for byte apart from the ID and TTLs. Property test over the bench data (1,000 hosts names, 5,000
// Services) and CoreDNS's kubernetes test objects: each query, in a random letter case, with and without
// EDNS (several buffer sizes, DO), over UDP and TCP, goes to a server with the fast path and to one
// without; the replies are compared, and the fast path must have answered most of them.
import { expect } from 'chai';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createServer } from '../core/create.js';
import { createLogger } from '../core/log.js';
import { decodeMessage, makeQuery, type Edns } from '../core/message.js';
import { reverseName } from '../core/ip.js';
import type { DnsServer } from '../core/server.js';
import { encodeMessage, scanMessage } from '../core/wire.js';
import { writeData, type BenchData } from './bench/data.js';
import { coreDnsTestObjects, http80, service, slice } from './fixtures/k8s-objects.js';
import pin from './fixtures/fast-plugin.js';
import { definePlugin, makeReply, SLOW_PATH, type Done } from '../core/index.js';
import { startServer } from '../core/testing.js';

/** A seeded PRNG (mulberry32): the same cases every run, and a failure can be replayed. */
function prng(seed: number): () => number {
  return () => {
    seed = (seed + 0x6d2b79f5) | 0;
    let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
    t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

interface Variant {
  readonly edns?: Edns;
  readonly transport: 'udp' | 'tcp';
}

const VARIANTS: readonly Variant[] = [
  { transport: 'udp' },
  { transport: 'udp', edns: { udpSize: 1232, do: false, version: 0 } },
  { transport: 'udp', edns: { udpSize: 4096, do: true, version: 0 } },
  { transport: 'udp', edns: { udpSize: 512, do: false, version: 0 } },
  { transport: 'tcp' },
  { transport: 'tcp', edns: { udpSize: 1232, do: true, version: 0 } },
];

/** The query's bytes, its question's letters in a random case. */
function queryWire(name: string, type: string, v: Variant, random: () => number): Buffer {
  const wire = encodeMessage(makeQuery(name, type, { id: 0x4242, ...(v.edns ? { edns: v.edns } : {}) }));
  for (let i = 12; wire[i] !== 0; i += wire[i]! + 1) {
    for (let j = i + 1; j <= i + wire[i]!; j++) {
      const c = wire[j]! | 0x20;
      if (c >= 0x61 && c <= 0x7a && random() < 0.5) wire[j] = wire[j]! ^ 0x20;
    }
  }
  return wire;
}

/** Past the name at `pos` (labels, then a zero or a pointer). */
function skipName(wire: Buffer, pos: number): number {
  while (wire[pos] !== 0 && (wire[pos]! & 0xc0) !== 0xc0) pos += wire[pos]! + 1;
  return wire[pos] === 0 ? pos + 1 : pos + 2;
}

/**
 * The reply with every TTL zeroed (a cache's TTLs count down by the second), and SOA serials too: the
 * kubernetes SOA's serial is the second its index last changed, which differs between two servers.
 */
function withoutTtls(wire: Buffer): Buffer {
  const out = Buffer.from(wire);
  const scan = scanMessage(out);
  for (const off of scan.ttlOffsets) out.writeUInt32BE(0, off);
  let pos = scan.questionEnd;
  for (const end of scan.recordEnds) {
    const type = out.readUInt16BE(skipName(out, pos));
    if (type === 6) out.writeUInt32BE(0, skipName(out, skipName(out, skipName(out, pos) + 10)));
    pos = end;
  }
  return out;
}

/** withoutTtls, for a reply the scanner can walk (error replies to broken queries are compared as they are). */
function withoutTtlsIfReadable(wire: Buffer): Buffer {
  try {
    return withoutTtls(wire);
  } catch {
    return wire;
  }
}

async function ask(server: DnsServer, wire: Buffer, transport: 'udp' | 'tcp'): Promise<Buffer> {
  const out = await server.inject(wire, { transport });
  if (!out) throw new Error('no reply');
  return out;
}

function start(corefile: string, fastPath: boolean): Promise<DnsServer> {
  return createServer({ corefile, fastPath, defaultPort: 0, defaultBind: ['127.0.0.1'], logger: createLogger({ sink: { write: () => {} } }) });
}

/** CoreDNS's test objects as a manifests file. */
function fixtureManifests(dir: string): { file: string; names: [string, string][] } {
  const o = coreDnsTestObjects();
  // Headless Services whose answers reach the size limits: 'edge' fills 511 bytes without an OPT (a
  // 512-byte client's OPT does not fit beside it), 'many' overflows every UDP size.
  const ips = (n: number, third: number) => Array.from({ length: n }, (_, i) => ({ ip: `10.9.${third}.${i + 1}`, hostname: `pod-${i}` }));
  o.services.push(service('testns', 'edge', { ports: http80 }), service('testns', 'many', { ports: http80 }));
  o.slices.push(slice('testns', 'edge-a', 'edge', ips(29, 1), http80), slice('testns', 'many-a', 'many', ips(250, 2), http80));
  const items = [...o.namespaces, ...o.services, ...o.slices];
  const file = path.join(dir, 'fixture.json');
  fs.writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  const names: [string, string][] = [];
  const types = ['A', 'AAAA', 'SRV', 'TXT', 'CNAME', 'MX', 'NS', 'SOA', 'PTR'];
  const add = (name: string) => { for (const t of types) names.push([name, t]); };
  for (const zone of ['cluster.local', 'svc.cluster.local', 'testns.svc.cluster.local', 'dns-version.cluster.local', 'nope.testns.svc.cluster.local', 'nope.cluster.local']) add(zone);
  for (const s of o.services) {
    const svc = `${s.metadata.name}.${s.metadata.namespace}.svc.cluster.local`;
    add(svc);
    for (const p of s.spec?.ports ?? []) add(`_${p.name}._${(p.protocol ?? 'TCP').toLowerCase()}.${svc}`);
    for (const ip of s.spec?.clusterIPs ?? []) if (ip !== 'None') add(reverseName(ip));
  }
  for (const sl of o.slices) {
    const svc = `${sl.metadata.labels?.['kubernetes.io/service-name']}.${sl.metadata.namespace}.svc.cluster.local`;
    for (const e of sl.endpoints ?? []) {
      if (e.hostname) add(`${e.hostname}.${svc}`);
      for (const ip of e.addresses) {
        add(reverseName(ip));
        add(`${ip.replaceAll(/[.:]/g, '-')}.${svc}`);
      }
    }
  }
  add('172-0-0-2.testns.pod.cluster.local');
  return { file, names };
}

interface Case {
  readonly name: string;
  readonly corefile: (data: BenchData, fixture: string) => string;
  readonly questions: (data: BenchData, fixture: [string, string][]) => [string, string][];
  /** The least share of queries the fast path must have answered. */
  readonly fastShare: number;
}

const lines = (file: string): [string, string][] => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ') as [string, string]);
const hostsBlock = (d: BenchData) => `  hosts ${d.hostsFile} {\n    reload 0\n  }\n`;
const withTypes = (qs: [string, string][], types: string[]) => qs.flatMap(([n]) => types.map((t) => [n, t] as [string, string]));

const CASES: readonly Case[] = [
  {
    name: 'hosts (the bench hosts file: A, AAAA, PTR, misses)',
    corefile: (d) => `. {\n${hostsBlock(d)}}\n`,
    questions: (d) => [
      ...withTypes(lines(d.hostsQueries).slice(0, 300), ['A', 'AAAA', 'MX']),
      ...Array.from({ length: 100 }, (_, i) => [reverseName(`10.0.${(i >> 8) & 255}.${i & 255}`), 'PTR'] as [string, string]),
      ['missing.bench.test', 'A'],
    ],
    fastShare: 0.3,
  },
  {
    name: 'the stock Corefile without forward and loadbalance (the bench Services)',
    corefile: (d) => `. {\n  errors\n  health 127.0.0.1:0\n  ready 127.0.0.1:0\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${d.k8sManifests}\n    pods insecure\n    ttl 30\n  }\n  prometheus 127.0.0.1:0\n  cache 30\n}\n`,
    questions: (d) => [
      ...withTypes(lines(d.k8sQueries).slice(0, 300), ['A', 'AAAA', 'SRV', 'TXT']),
      ...lines(d.k8sQueries).slice(0, 100).map(([n]) => [`_http._tcp.${n}`, 'SRV'] as [string, string]),
      ...Array.from({ length: 50 }, (_, s) => [reverseName(`10.96.0.${s}`), 'PTR'] as [string, string]),
    ],
    fastShare: 0.6,
  },
  {
    name: 'kubernetes alone (CoreDNS\'s test objects, every name and type)',
    corefile: (_d, f) => `. {\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${f}\n    pods insecure\n  }\n}\n`,
    questions: (_d, f) => f,
    fastShare: 0.6,
  },
  {
    name: 'cache in front of kubernetes (CoreDNS\'s test objects)',
    corefile: (_d, f) => `. {\n  prometheus 127.0.0.1:0\n  cache 30\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${f}\n    pods insecure\n  }\n}\n`,
    questions: (_d, f) => f,
    fastShare: 0.6,
  },
];

describe('wire fast path: byte for byte the ordinary path', function () {
  this.timeout(120_000);
  let dir: string;
  let data: BenchData;
  let fixture: { file: string; names: [string, string][] };

  before(() => {
    dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-fast-'));
    data = writeData(dir);
    fixture = fixtureManifests(dir);
  });
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  for (const c of CASES) {
    it(`${c.name}: every reply equal apart from TTLs, in every case, size and transport`, async () => {
      const fast = await start(c.corefile(data, fixture.file), true);
      const slow = await start(c.corefile(data, fixture.file), false);
      try {
        const random = prng(1157);
        const questions = c.questions(data, fixture.names);
        let asked = 0;
        for (const [name, type] of questions) {
          for (const v of VARIANTS) {
            const wire = queryWire(name, type, v, random);
            // Twice: the first may go the ordinary way and leave bytes for the fast path; the second is fast.
            for (let round = 0; round < 2; round++) {
              const expected = withoutTtls(await ask(slow, wire, v.transport));
              const got = withoutTtls(await ask(fast, wire, v.transport));
              if (!got.equals(expected)) {
                expect.fail(`${name} ${type} ${JSON.stringify(v)} round ${round}:\n fast ${got.toString('hex')}\n slow ${expected.toString('hex')}\n${JSON.stringify(decodeMessage(got))}\n${JSON.stringify(decodeMessage(expected))}`);
              }
              asked++;
            }
          }
        }
        // prometheus counts the same on both paths (all but the durations), and so does the cache.
        const series = async (server: DnsServer) => (await server.metrics.scrape()).body.split('\n')
          .filter((l) => /^(coredns_dns_(requests_total|responses_total|do_requests_total|request_size_bytes|response_size_bytes)|coredns_cache_(requests|hits|misses|drops)_total)\{/.test(l)).sort();
        const counted = await series(fast);
        expect(counted).to.deep.equal(await series(slow));
        if (c.corefile(data, fixture.file).includes('cache')) expect(counted.some((l) => l.startsWith('coredns_cache_hits_total{'))).to.equal(true);
        const counts = fast.fastPathCounts();
        expect(counts.fast + counts.fallback).to.equal(asked);
        expect(counts.fast / asked, `fast ${counts.fast} of ${asked}`).to.be.at.least(c.fastShare);
        expect(slow.fastPathCounts()).to.deep.equal({ fast: 0, fallback: 0 });
      } finally {
        await fast.close();
        await slow.close();
      }
    });
  }
});

describe('wire fast path: odd and broken queries', function () {
  this.timeout(60_000);
  for (const front of ['', 'prometheus 127.0.0.1:0\n  cache 30\n  ']) {
    it(`answers 5,000 mutated queries (flags, sizes, options, bytes) exactly as the ordinary path does, or drops them as it does: kubernetes${front ? ' behind prometheus and cache' : ' alone'}`, async () => {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-fast-odd-'));
      const fixture = fixtureManifests(dir);
      const corefile = `. {\n  ${front}kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${fixture.file}\n    pods insecure\n  }\n}\n`;
      const fast = await start(corefile, true);
      const slow = await start(corefile, false);
      const random = prng(4242);
      const pick = <T>(xs: readonly T[]): T => xs[Math.floor(random() * xs.length)]!;
      try {
        let answered = 0;
        for (let i = 0; i < 5000; i++) {
          const [name, type] = pick(fixture.names);
          const v = pick(VARIANTS);
          const edns = v.edns && random() < 0.3
            ? { ...v.edns, options: [{ code: pick([3, 8, 10, 15, 65001]), data: Buffer.from(Array.from({ length: Math.floor(random() * 12) }, () => Math.floor(random() * 256))) }] }
            : v.edns;
          const wire = queryWire(name, type, { ...v, ...(edns ? { edns } : {}) }, random);
          // Header flags: AA, TC, RD, RA, Z, AD, CD and the rcode nibble set at random; sometimes one byte anywhere.
          wire[2] = (wire[2]! & 0xf8) | Math.floor(random() * 8);
          wire[3] = Math.floor(random() * 256);
          if (random() < 0.2) wire[Math.floor(random() * wire.length)] = Math.floor(random() * 256);
          for (let round = 0; round < 2; round++) {
            const want = await slow.inject(wire, { transport: v.transport });
            const got = await fast.inject(wire, { transport: v.transport });
            if (want === undefined || got === undefined) {
              expect(got, `${name} ${type} #${i}`).to.equal(want);
              continue;
            }
            const [w, g] = [withoutTtlsIfReadable(want), withoutTtlsIfReadable(got)];
            if (!g.equals(w)) expect.fail(`${name} ${type} #${i} round ${round}:\n fast ${got.toString('hex')}\n slow ${want.toString('hex')}\n query ${wire.toString('hex')}`);
            answered++;
          }
        }
        expect(answered).to.be.greaterThan(8000);
        expect(fast.fastPathCounts().fast).to.be.greaterThan(2000);
      } finally {
        await fast.close();
        await slow.close();
        fs.rmSync(dir, { recursive: true, force: true });
      }
    });
  }
});

describe('wire fast path: loadbalance shuffles the kept bytes', function () {
  this.timeout(30_000);
  it('permutes a headless Service\'s addresses per reply, keeping every record, and cuts after shuffling', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-fast-lb-'));
    const fixture = fixtureManifests(dir);
    const corefile = `. {\n  loadbalance\n  kubernetes cluster.local {\n    manifests ${fixture.file}\n  }\n}\n`;
    const fast = await start(corefile, true);
    try {
      const random = prng(99);
      const orders = new Set<string>();
      const seen = new Set<string>();
      let all: string[] | undefined;
      for (let i = 0; i < 40; i++) {
        const tcp = decodeMessage(await ask(fast, queryWire('many.testns.svc.cluster.local', 'A', { transport: 'tcp' }, random), 'tcp'));
        const addresses = tcp.answer.map((r) => String(r.data));
        all ??= [...addresses].sort();
        expect([...addresses].sort()).to.deep.equal(all);
        orders.add(addresses.join(','));
        // Over UDP the answer is cut after the shuffle: the first records differ from reply to reply.
        const udp = decodeMessage(await ask(fast, queryWire('many.testns.svc.cluster.local', 'A', { transport: 'udp' }, random), 'udp'));
        expect(udp.tc).to.equal(true);
        for (const r of udp.answer) seen.add(String(r.data));
      }
      expect(all).to.have.length(250);
      expect(orders.size).to.be.greaterThan(30);
      expect(seen.size).to.be.greaterThan(100);
      expect(fast.fastPathCounts().fast).to.be.at.least(78);
    } finally {
      await fast.close();
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('wire fast path: a plugin written against the public API', () => {
  it('docs/fast-path.md\'s snippet is test/fixtures/fast-plugin.ts', () => {
    const doc = fs.readFileSync(path.join(import.meta.dirname, '../docs/fast-path.md'), 'utf8');
    const snippet = /```ts\n([\s\S]*?)```/.exec(doc.slice(doc.indexOf('## For plugin authors')))?.[1];
    const fixture = fs.readFileSync(path.join(import.meta.dirname, 'fixtures/fast-plugin.ts'), 'utf8').replace("from '../../core/index.js'", "from 'nodens'");
    expect(snippet?.trim()).to.equal(fixture.trim());
  });

  it('answers over UDP and TCP (dig too) from its kept bytes after the first query, as the ordinary path would', async () => {
    const s = await startServer('example.test {\n    pin Web.Example.Test 192.0.2.7\n    hosts {\n        192.0.2.9 other.example.test\n        fallthrough\n    }\n}', { plugins: [pin] });
    try {
      const first = await s.query('web.example.test', 'A');
      expect(s.server.fastPathCounts()).to.deep.equal({ fast: 0, fallback: 1 });
      const again = await s.query('WEB.example.TEST', 'A', { transport: 'tcp' });
      expect(s.server.fastPathCounts().fast).to.equal(1);
      expect(first.answer).to.deep.equal([{ name: 'web.example.test', ttl: 60, class: 'IN', type: 'A', data: '192.0.2.7' }]);
      // The client's own case in the question and in the owner name (a pointer to the question).
      expect(again.question[0]!.name).to.equal('WEB.example.TEST');
      expect(again.answer).to.deep.equal([{ name: 'WEB.example.TEST', ttl: 60, class: 'IN', type: 'A', data: '192.0.2.7' }]);
      const dig = await s.dig(['+short', 'web.example.test', 'A']);
      expect(dig.trim()).to.equal('192.0.2.7');
      expect(s.server.fastPathCounts().fast).to.equal(2);
      // hosts runs first (pin's `before: 'forward'`) and passes pin's name on (fallthrough), on the fast path too.
      const other = await s.query('other.example.test', 'A');
      expect(other.answer.map((r) => r.data)).to.deep.equal(['192.0.2.9']);
      // (hosts makes its bytes in the fast hook itself: only pin's very first query took the ordinary path.)
      expect(s.server.fastPathCounts()).to.deep.equal({ fast: 3, fallback: 1 });
    } finally {
      await s.close();
    }
  });
});

describe('wire fast path: the clock', () => {
  /** `clocked`: answers after 40 ms on the ordinary path (its fast hook says SLOW_PATH); records what it saw. */
  function clockedPlugin(seen: { start: number[]; done: Done[] }) {
    return definePlugin<Record<string, never>>({
      name: 'clocked',
      schema: { type: 'object' },
      parse: () => ({}),
      setup: () => ({
        async serve(req) {
          // req.start is read only once the reply is done: a lazily read clock would start there.
          req.onDone((done) => {
            seen.done.push(done);
            seen.start.push(req.start);
          });
          await new Promise((resolve) => setTimeout(resolve, 40));
          return makeReply(req.query, { answer: [{ name: req.qname, ttl: 5, type: 'A', data: '192.0.2.1' }] });
        },
        fast: { answer: () => SLOW_PATH },
      }),
      before: 'forward',
    });
  }

  it('a query the fast path passes on is timed from then: its Done lasts as long as the plugin took', async () => {
    const seen = { start: [] as number[], done: [] as Done[] };
    const s = await startServer('example.test {\n    clocked\n}', { plugins: [clockedPlugin(seen)] });
    try {
      const before = performance.now();
      const reply = await s.query('a.example.test', 'A');
      const after = performance.now();
      expect(reply.answer.map((r) => r.data)).to.deep.equal(['192.0.2.1']);
      expect(s.server.fastPathCounts()).to.deep.equal({ fast: 0, fallback: 1 });
      // Read when the ordinary path began, not on first use (the Done would then last ~0 ms).
      expect(seen.start[0]).to.be.within(before, after);
      expect(seen.done[0]!.durationMs).to.be.at.least(35).and.below(after - before + 1);
    } finally {
      await s.close();
    }
  });

  it('a block with a sent hook (prometheus) reads the clock on arrival, and reports each fast answer\'s time', async () => {
    const s = await startServer('example.test {\n    prometheus 127.0.0.1:0\n    hosts {\n        192.0.2.9 web.example.test\n    }\n}');
    try {
      for (let i = 0; i < 3; i++) await s.query('web.example.test', 'A');
      expect(s.server.fastPathCounts().fast).to.equal(3);
      const body = (await s.server.metrics.scrape()).body;
      const count = /coredns_dns_request_duration_seconds_count\{[^}]*\} (\d+)/.exec(body)?.[1];
      const sum = Number(/coredns_dns_request_duration_seconds_sum\{[^}]*\} ([\d.e-]+)/.exec(body)?.[1]);
      expect(count).to.equal('3');
      // Each took some time, well under a second: a clock never read would give 0, or a duration since the epoch.
      expect(sum).to.be.above(0).and.below(1);
    } finally {
      await s.close();
    }
  });
});
