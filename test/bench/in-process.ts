// In-process A/B of source trees: CPU µs per query through DnsServer.inject() (no sockets), alternating
// rounds so that load from other processes falls on every tree alike. Not part of `npm run bench`.
//   node --import=tsx test/bench/in-process.ts [--hosts-only] /work/main .   (a tree before a change, and this one)
// Rows: hosts alone; and, where the tree has next(changes), a pass-through plugin and a suffix rewrite
// (a derived request) in front of hosts. --hosts-only leaves those out: derived requests in the same
// process make the handlers' property accesses polymorphic, which a server without them never sees.
import path from 'node:path';

interface Setup { readonly name: string; run(): Promise<void>; close(): Promise<void> }
interface Req { readonly qname: string }
type NextFn = (changes?: { name: string }) => unknown;

const N = 100_000;
const ROUNDS = 14;
const hostsOnly = process.argv.includes('--hosts-only');
const roots = process.argv.slice(2).filter((a) => !a.startsWith('--')).map((r) => path.resolve(r));
if (roots.length === 0) roots.push(path.resolve(import.meta.dirname, '../..'));

const setups: Setup[] = [];
for (const root of roots) {
  const { startServer } = await import(path.join(root, 'core/testing.ts'));
  const { encodeMessage } = await import(path.join(root, 'core/wire.ts'));
  const { makeQuery, definePlugin } = await import(path.join(root, 'core/index.ts'));
  const wire = Buffer.from(encodeMessage(makeQuery('web.old.test', 'A', { id: 1, edns: { udpSize: 1232, do: false, version: 0 } })));
  const hosts = 'hosts /dev/null {\n 10.0.0.7 web.new.test\n 10.0.0.8 web.old.test\n fallthrough\n }';
  const add = async (name: string, corefile: string, plugins: unknown[]): Promise<void> => {
    const s = await startServer(corefile, { plugins });
    setups.push({
      name: `${name.padEnd(14)} ${root}`,
      run: async () => {
        for (let i = 0; i < N; i++) {
          const out = s.server.inject(wire);
          if (out instanceof Promise) await out;
        }
      },
      close: () => s.close(),
    });
  };
  await add('hosts', `. {\n ${hosts}\n}\n`, []);
  const derives = (await import(path.join(root, 'core/index.ts'))).deriveRequest !== undefined;
  if (derives && !hostsOnly) {
    const plugin = (name: string, serve: (req: Req, next: NextFn) => unknown) =>
      definePlugin({ name, schema: { type: 'object' }, parse: () => ({}), setup: () => ({ serve }), after: 'cache' });
    await add('pass+hosts', `. {\n pass_bench\n ${hosts}\n}\n`, [plugin('pass_bench', (_req, next) => next())]);
    await add('derive+hosts', `. {\n suffix_bench\n ${hosts}\n}\n`, [
      plugin('suffix_bench', (req, next) => (req.qname.endsWith('.old.test') ? next({ name: `${req.qname.slice(0, -8)}new.test` }) : next())),
    ]);
  }
}

const samples = new Map<string, number[]>();
for (let round = 0; round < ROUNDS; round++) {
  // Rotate the order each round, so no tree always runs first after a pause; the first two rounds warm up.
  for (let k = 0; k < setups.length; k++) {
    const s = setups[(k + round) % setups.length]!;
    const c0 = process.cpuUsage();
    await s.run();
    const c = process.cpuUsage(c0);
    if (round >= 2) samples.set(s.name, [...(samples.get(s.name) ?? []), (c.user + c.system) / N]);
  }
}
for (const [name, us] of samples) {
  const sorted = [...us].sort((a, b) => a - b);
  console.log(`best ${sorted[0]!.toFixed(2)}  median ${sorted[sorted.length >> 1]!.toFixed(2)} µs CPU/query  ${name}`);
}
for (const s of setups) await s.close();
