// CPU per UDP send with dgram's default lookup (dns.lookup, a tick later) against the listener's
// synchronous one for IP literals, interleaved rounds in one process; the sink runs in a child process so
// that its receive work is not counted. Run: node --import=tsx test/bench/udp-lookup.ts [SENDS] [ROUNDS]
import { spawn } from 'node:child_process';
import dgram from 'node:dgram';

type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
const sends = Number(process.argv[2] ?? 200_000);
const rounds = Number(process.argv[3] ?? 11);
const payload = Buffer.alloc(60, 1);

const sink = spawn(process.execPath, ['-e', "const s=require('dgram').createSocket('udp4');s.on('message',()=>{});s.bind(0,'127.0.0.1',()=>console.log(s.address().port))"], { stdio: ['ignore', 'pipe', 'inherit'] });
const port = Number(await new Promise<string>((r) => sink.stdout.once('data', (d) => r(String(d).trim()))));

const variants: Record<string, dgram.SocketOptions> = {
  'dns.lookup (default)': { type: 'udp4' },
  'synchronous lookup': { type: 'udp4', lookup: ((address: string, _f: unknown, cb: LookupCallback) => cb(null, address, 4)) as dgram.SocketOptions['lookup'] },
};

/** µs of CPU (user + system) per send, in batches of 1,000 so the event loop turns as a server's does. */
async function cpuPerSend(opts: dgram.SocketOptions): Promise<number> {
  const s = dgram.createSocket(opts);
  await new Promise<void>((r) => s.bind(0, '127.0.0.1', () => r()));
  const c0 = process.cpuUsage();
  for (let b = 0; b < sends / 1000; b++) {
    await new Promise<void>((r) => {
      for (let i = 0; i < 1000; i++) s.send(payload, port, '127.0.0.1', i === 999 ? () => r() : undefined);
    });
  }
  const c = process.cpuUsage(c0);
  s.close();
  return (c.user + c.system) / sends;
}

const results = new Map<string, number[]>(Object.keys(variants).map((k) => [k, []]));
for (let i = 0; i < rounds; i++) for (const [name, opts] of Object.entries(variants)) results.get(name)!.push(await cpuPerSend(opts));
const median = (a: number[]): number => [...a].sort((x, y) => x - y)[a.length >> 1]!;
const base = median(results.get('dns.lookup (default)')!);
for (const [name, a] of results) {
  console.log(`${name.padEnd(22)} ${median(a).toFixed(2)} µs CPU/send (median of ${rounds}; min ${Math.min(...a).toFixed(2)}, max ${Math.max(...a).toFixed(2)}); ${(median(a) / base).toFixed(3)}×`);
}
sink.kill();
