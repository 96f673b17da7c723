// CPU per query of nodens' own query path, without sockets: DnsServer.inject over the bench data, per
// Corefile, in interleaved rounds (the machine is shared: the minimum over rounds is the figure). What a
// change to the query path costs or saves shows here first, free of the kernel and of dnsperf.
// Run: node --import=tsx test/bench/inject.ts [QUERIES_PER_ROUND] [ROUNDS] [only,names]; NODENS_DIST=DIR measures
// another build (an A/B of a change: alternate runs of both).
import os from 'node:os';
import fs from 'node:fs';
import path from 'node:path';
import type { TestServer } from '../../core/testing.js';
import { writeData } from './data.js';

// The built code (npm run build), as the CLI runs it: tsx's transform adds helpers (esbuild's __name) to closures.
const { startServer } = (await import(path.resolve(process.env.NODENS_DIST ?? path.resolve(import.meta.dirname, '../../dist'), 'core/testing.js'))) as typeof import('../../core/testing.js');
const perRound = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 5);
const only = process.argv[4]?.split(',');

/** A query's wire form: ID, RD, one question, an OPT with a 1232-byte buffer (as dnsperf sends: no OPT; both count). */
function queryWire(name: string, type: number, edns: boolean): Buffer {
  const labels = name.split('.').filter((l) => l !== '');
  const parts: Buffer[] = [Buffer.from([0x12, 0x34, 0x01, 0x00, 0, 1, 0, 0, 0, 0, 0, edns ? 1 : 0])];
  for (const l of labels) parts.push(Buffer.from([l.length]), Buffer.from(l, 'latin1'));
  parts.push(Buffer.from([0, type >> 8, type & 255, 0, 1]));
  if (edns) parts.push(Buffer.from([0, 0, 41, 0x04, 0xd0, 0, 0, 0, 0, 0, 0]));
  return Buffer.concat(parts);
}

const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'nodens-inject-'));
const data = writeData(dir);
const names = (file: string) => fs.readFileSync(file, 'utf8').trim().split('\n').map((l) => l.split(' ')[0]!);
const hostsNames = names(data.hostsQueries);
const k8sNames = names(data.k8sQueries);

interface Case { name: string; corefile: string; queries: string[] }
const cases: Case[] = [
  { name: 'hosts', corefile: `. {\n  hosts ${data.hostsFile} {\n    reload 0\n  }\n}\n`, queries: hostsNames },
  // The cache in front of hosts: after the first round every query is a hit (hosts answers in-process).
  { name: 'cache hit (in front of hosts)', corefile: `. {\n  cache 3600\n  hosts ${data.hostsFile} {\n    reload 0\n  }\n}\n`, queries: hostsNames },
  { name: 'kubernetes', corefile: `cluster.local {\n  kubernetes cluster.local {\n    manifests ${data.k8sManifests}\n  }\n}\n`, queries: k8sNames },
  {
    name: 'stock Corefile (no forward needed: cluster names)',
    corefile: `. {\n  errors\n  health 127.0.0.1:0\n  ready 127.0.0.1:0\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${data.k8sManifests}\n    pods insecure\n    fallthrough in-addr.arpa ip6.arpa\n    ttl 30\n  }\n  prometheus 127.0.0.1:0\n  cache 30\n  loadbalance\n}\n`,
    queries: k8sNames,
  },
].filter((c) => !only || only.some((o) => c.name.startsWith(o)));

const servers = new Map<string, { server: TestServer; wires: Buffer[] }>();
for (const c of cases) {
  const server = await startServer(c.corefile);
  servers.set(c.name, { server, wires: c.queries.map((n, i) => queryWire(n, 1, i % 2 === 0)) });
}

async function round(s: { server: TestServer; wires: Buffer[] }): Promise<number> {
  const { wires } = s;
  const c0 = process.cpuUsage();
  let pending: Promise<unknown>[] = [];
  for (let i = 0; i < perRound; i++) {
    const r = s.server.server.inject(wires[i % wires.length]!);
    if (r instanceof Promise) pending.push(r);
    if (pending.length >= 256) {
      await Promise.all(pending);
      pending = [];
    }
  }
  await Promise.all(pending);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / perRound;
}

const best = new Map<string, number>();
for (const s of servers.values()) await round(s); // warm up: JIT, cache fill
for (let r = 0; r < rounds; r++) {
  for (const [name, s] of servers) best.set(name, Math.min(best.get(name) ?? Infinity, await round(s)));
}
console.log(`| path (inject, no sockets; node ${process.version}, load ${os.loadavg()[0]!.toFixed(1)}) | CPU µs/query (min of ${rounds} rounds of ${perRound}) |\n|---|---:|`);
for (const [name, us] of best) console.log(`| ${name} | ${us.toFixed(2)} |`);
for (const s of servers.values()) await s.server.close();
fs.rmSync(dir, { recursive: true, force: true });
