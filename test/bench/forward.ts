// The forward section of `npm run bench`: what a spoofer must beat per query with the actual
// configuration, and the in-process cost of each source-port design (see plugins/forward/README.md).
import { makeQuery, makeReply } from '../../core/message.js';
import { rr } from '../../core/testing.js';
import { encodeMessage, questionEnd } from '../../core/wire.js';
import { checkMessage } from '../../core/wire-check.js';
import { ephemeralPortRange, spoofEntropy } from '../../plugins/forward/entropy.js';
import { randomizeCase, withId } from '../../plugins/forward/exchange.js';
import { UDP_DEFAULTS } from '../../plugins/forward/udp-pool.js';
import { measurePortDesigns } from './forward-ports.js';

const NAMES = ['www.example.com', 'kubernetes.default.svc.cluster.local', 'a.io', '10.0.0.10.in-addr.arpa'];

/** One line per name: the bits with the defaults, with no_case_randomization, and before (4 sockets, no 0x20). */
export function printSpoofEntropy(): void {
  const portRange = ephemeralPortRange();
  const f1 = (n: number) => n.toFixed(1);
  console.log(`\n## forward: bits a spoofer must guess per UDP query (ephemeral ports ${portRange[0]}-${portRange[1]}, ${UDP_DEFAULTS.sockets} sockets per upstream, each retired after ${UDP_DEFAULTS.uses} queries)`);
  console.log('| question | ID | port: blind / ports seen | 0x20 | total, blind | total, ports seen | no_case_randomization, ports seen | before (4 sockets, no 0x20), ports seen |');
  console.log('|---|---:|---:|---:|---:|---:|---:|---:|');
  for (const qname of NAMES) {
    const on = spoofEntropy({ qname, randomizeCase: true, sockets: UDP_DEFAULTS.sockets, portRange });
    const off = spoofEntropy({ qname, randomizeCase: false, sockets: UDP_DEFAULTS.sockets, portRange });
    const before = spoofEntropy({ qname, randomizeCase: false, sockets: 4, portRange });
    console.log(`| ${qname} | ${on.id} | ${f1(on.port)} / ${f1(on.portSeen)} | ${on.case} | ${f1(on.blind)} | ${f1(on.portsSeen)} | ${f1(off.portsSeen)} | ${f1(before.portsSeen)} |`);
  }
}

/** Per-query cost of the checks forward added, in process (a mean over 1,000,000 calls). */
function printCheckCosts(): void {
  const q = encodeMessage(makeQuery('www.example.com', 'A', { id: 1 }));
  const answer = [rr`www.example.com. 60 IN CNAME web.example.com.`, ...[1, 2, 3, 4].map((i) => rr(`web.example.com. 60 IN A 10.0.0.${i}`))];
  const reply = encodeMessage(makeReply(makeQuery('www.example.com'), { answer }));
  const time = (f: () => void): number => {
    for (let i = 0; i < 100_000; i++) f();
    const t = performance.now();
    for (let i = 0; i < 1_000_000; i++) f();
    return performance.now() - t; // ms per 1e6 calls = ns per call
  };
  const check = time(() => checkMessage(reply));
  const case20 = time(() => randomizeCase(withId(q, 5), 0)) - time(() => withId(q, 5));
  console.log(`per query, in process: checkMessage ${(check / 1000).toFixed(2)} µs (a CNAME and 4 A records), 0x20 ${(case20 / 1000).toFixed(2)} µs (${questionEnd(q) - 16} question bytes)`);
}

export async function runForwardBench(): Promise<void> {
  printSpoofEntropy();
  printCheckCosts();
  for (const concurrency of [1, 32]) {
    const rows = await measurePortDesigns(20_000, concurrency);
    console.log(`\n## forward: source-port designs, in process against dnsmasq, ${concurrency} quer${concurrency === 1 ? 'y' : 'ies'} in flight (20,000 queries each, best of 3 interleaved rounds)`);
    console.log('| design | wall µs/query | CPU µs/query | p99 ms |\n|---|---:|---:|---:|');
    for (const r of rows) console.log(`| ${r.name} | ${r.wallUs.toFixed(1)} | ${r.cpuUs.toFixed(1)} | ${r.p99Ms.toFixed(2)} |`);
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runForwardBench();
