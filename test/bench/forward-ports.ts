// In-process cost of forward's UDP exchange per query for several source-port designs (a few long-lived
// sockets, a wide pool rotated often, a fresh socket per query), against a real dnsmasq on loopback.
import { makeQuery } from '../../core/message.js';
import { encodeMessage } from '../../core/wire.js';
import { UdpPool, type UdpPoolOptions } from '../../plugins/forward/udp-pool.js';
import { startDnsmasq } from '../fixtures/dnsmasq.js';

export interface PortDesign {
  readonly name: string;
  readonly opts: UdpPoolOptions;
}

export const PORT_DESIGNS: readonly PortDesign[] = [
  { name: '4 sockets, 256 uses each (the old pool)', opts: { sockets: 4, uses: 256, randomizeCase: true } },
  { name: '4 sockets, 256 uses, no 0x20', opts: { sockets: 4, uses: 256, randomizeCase: false } },
  { name: '16 sockets, 256 uses each', opts: { sockets: 16, uses: 256, randomizeCase: true } },
  { name: '64 sockets, 64 uses each', opts: { sockets: 64, uses: 64, randomizeCase: true } },
  { name: '256 sockets, 16 uses each', opts: { sockets: 256, uses: 16, randomizeCase: true } },
  { name: 'a fresh socket per query', opts: { sockets: 1, uses: 1, randomizeCase: true } },
];

export interface PortResult {
  readonly name: string;
  /** Wall time per query at this concurrency, µs. */
  readonly wallUs: number;
  /** CPU time (user + system) of this process per query, µs. */
  readonly cpuUs: number;
  readonly p99Ms: number;
}

/**
 * Runs `queries` exchanges with `concurrency` in flight through one pool per design, `rounds` times with
 * the designs interleaved; keeps each design's best round (other load on the machine only ever adds).
 */
export async function measurePortDesigns(queries = 20_000, concurrency = 32, designs = PORT_DESIGNS, rounds = 3): Promise<PortResult[]> {
  const up = await startDnsmasq({ args: ['--address=/fwd.test/10.9.9.9'], probe: 'up.fwd.test' });
  const to = { address: '127.0.0.1', port: up.port, family: 4 as const, name: `127.0.0.1:${up.port}` };
  const wires = Array.from({ length: 1000 }, (_, i) => encodeMessage(makeQuery(`name${i}.fwd.test`, 'A', { id: 0 })));
  const best = new Map<string, PortResult>();
  try {
    for (let round = 0; round < rounds; round++) {
      for (const d of designs) {
        const r = await measureOne(new UdpPool(to, () => {}, d.opts), wires, queries, concurrency);
        const was = best.get(d.name);
        best.set(d.name, { name: d.name, wallUs: Math.min(r.wallUs, was?.wallUs ?? Infinity), cpuUs: Math.min(r.cpuUs, was?.cpuUs ?? Infinity), p99Ms: Math.min(r.p99Ms, was?.p99Ms ?? Infinity) });
      }
    }
  } finally {
    await up.stop();
  }
  return designs.map((d) => best.get(d.name)!);
}

async function measureOne(pool: UdpPool, wires: readonly Buffer[], queries: number, concurrency: number): Promise<Omit<PortResult, 'name'>> {
  const run = async (n: number): Promise<number[]> => {
    const lat: number[] = [];
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < n) {
        const wire = wires[next++ % wires.length]!;
        const t = performance.now();
        await pool.exchange(wire, { timeoutMs: 2000 });
        lat.push(performance.now() - t);
      }
    };
    await Promise.all(Array.from({ length: concurrency }, worker));
    return lat;
  };
  try {
    await run(2000); // warm-up: JIT, and every slot opened
    const cpu0 = process.cpuUsage();
    const t0 = performance.now();
    const lat = await run(queries);
    const wall = performance.now() - t0;
    const cpu = process.cpuUsage(cpu0);
    lat.sort((a, b) => a - b);
    return { wallUs: (wall * 1000) / queries, cpuUs: (cpu.user + cpu.system) / queries, p99Ms: lat[Math.floor(lat.length * 0.99)]! };
  } finally {
    pool.close();
  }
}
