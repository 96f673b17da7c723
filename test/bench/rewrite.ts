// What a `rewrite name suffix` in front of hosts costs per query, in process (no sockets, no dnsperf): the
// query path through DnsServer.inject (CPU time of this process), hosts alone against rewrite + hosts, in alternating rounds so the
// machine's drift falls on both; each side's best round counts. Run alone: node --import=tsx test/bench/rewrite.ts
import { existsSync } from 'node:fs';
import type { TestServer } from '../../core/testing.js';

// The built JavaScript when there is one (`npm run bench` builds first): what users run, without the TypeScript
// loader's wrappers on every function. The source otherwise.
const dist = new URL('../../dist/core/', import.meta.url);
const from = existsSync(new URL('testing.js', dist)) ? dist.href : new URL('../../core/', import.meta.url).href;
const { encodeMessage, makeQuery } = (await import(`${from}index.js`)) as typeof import('../../core/index.js');
const { startServer } = (await import(`${from}testing.js`)) as typeof import('../../core/testing.js');

const HOSTS = '  hosts /dev/null new.test {\n    10.0.0.1 web.new.test\n  }\n';

export interface RewriteCost {
  readonly n: number;
  readonly rounds: number;
  /** 'dist' or 'source'. */
  readonly build: string;
  readonly hostsNs: number;
  readonly rewriteNs: number;
  readonly autoNs: number;
}

async function perQueryNs(s: TestServer, name: string, n: number): Promise<number> {
  const wire = Buffer.from(encodeMessage(makeQuery(name, 'A', { id: 4242 })));
  // CPU time, not wall time: other processes on the machine then do not count.
  const start = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const out = s.server.inject(wire);
    if (out instanceof Promise) await out;
  }
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / n;
}

export async function measureRewriteCost(n = 100_000, rounds = 7): Promise<RewriteCost> {
  const hosts = await startServer(`new.test {\n${HOSTS}}`);
  const rewrite = await startServer(`old.test {\n  rewrite name suffix old.test new.test\n${HOSTS}}`);
  const auto = await startServer(`old.test {\n  rewrite name suffix old.test new.test answer auto\n${HOSTS}}`);
  try {
    // The answers are what they should be before anything is timed.
    for (const [s, name] of [[hosts, 'web.new.test'], [rewrite, 'web.old.test'], [auto, 'web.old.test']] as const) {
      const reply = await s.query(name, 'A');
      if (reply.answer.length !== 1) throw new Error(`${name}: no answer`);
    }
    const best = { hostsNs: Infinity, rewriteNs: Infinity, autoNs: Infinity };
    for (let r = 0; r < rounds; r++) {
      best.hostsNs = Math.min(best.hostsNs, await perQueryNs(hosts, 'web.new.test', n));
      best.rewriteNs = Math.min(best.rewriteNs, await perQueryNs(rewrite, 'web.old.test', n));
      best.autoNs = Math.min(best.autoNs, await perQueryNs(auto, 'web.old.test', n));
    }
    return { n, rounds, build: from === dist.href ? 'dist' : 'source', ...best };
  } finally {
    await Promise.all([hosts.close(), rewrite.close(), auto.close()]);
  }
}

export function printRewriteCost(c: RewriteCost): void {
  console.log(`\n## rewrite: cost per query in process (DnsServer.inject, CPU time, best of ${c.rounds} rounds of ${c.n.toLocaleString('en')} queries, ${c.build})`);
  console.log('| chain | µs per query | added by rewrite µs |\n|---|---:|---:|');
  console.log(`| hosts | ${(c.hostsNs / 1000).toFixed(3)} | |`);
  console.log(`| rewrite name suffix + hosts | ${(c.rewriteNs / 1000).toFixed(3)} | ${((c.rewriteNs - c.hostsNs) / 1000).toFixed(3)} |`);
  console.log(`| rewrite name suffix ... answer auto + hosts | ${(c.autoNs / 1000).toFixed(3)} | ${((c.autoNs - c.hostsNs) / 1000).toFixed(3)} |`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  printRewriteCost(await measureRewriteCost(Number(process.env.N ?? 100_000), Number(process.env.ROUNDS ?? 7)));
}
