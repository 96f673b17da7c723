// A SetupEnv for calling a plugin's setup() in tests without a server: hooks are collected and run
// by hand, control calls are recorded.
import net, { type AddressInfo } from 'node:net';
import { parseCorefile } from '../../core/config/corefile.js';
import type { Directive } from '../../core/config/types.js';
import { memoryLogger } from '../../core/log.js';
import { createMetrics, type Metrics } from '../../core/metrics.js';
import type { Message, Reply } from '../../core/message.js';
import type { PluginInstance, Peer, SetupEnv, Transport } from '../../core/plugin.js';

export interface TestEnv extends SetupEnv {
  readonly logger: SetupEnv['logger'] & { lines: string[] };
  readonly metrics: Metrics;
  startup(): Promise<void>;
  shutdown(): Promise<void>;
  readonly reloads: number;
  readonly fatals: string[];
}

export interface TestEnvOptions {
  /** The plugin whose logger this is (lines read "[INFO] plugin/NAME: ..."). */
  plugin?: string;
  zones?: string[];
  configFile?: string;
  configFiles?: string[];
  listen?: (Peer & { transport: Transport })[];
  metrics?: Metrics;
  instances?: () => readonly PluginInstance[];
  reload?: () => Promise<void>;
  resolve?: (q: Message) => Promise<Reply>;
}

export function testEnv(opts: TestEnvOptions = {}): TestEnv {
  const startups: (() => void | Promise<void>)[] = [];
  const shutdowns: (() => void | Promise<void>)[] = [];
  const fatals: string[] = [];
  let reloads = 0;
  const root = memoryLogger();
  return {
    logger: Object.assign(opts.plugin ? root.child(opts.plugin) : root, { lines: root.lines }),
    zones: opts.zones ?? [''],
    configDir: '/nonexistent',
    configFile: opts.configFile ?? '/nonexistent/Corefile',
    configFiles: opts.configFiles ?? [opts.configFile ?? '/nonexistent/Corefile'],
    listen: opts.listen ?? [{ address: '127.0.0.1', port: 53, transport: 'udp' }],
    metrics: opts.metrics ?? createMetrics(),
    onStartup: (fn) => void startups.push(fn),
    onShutdown: (fn) => void shutdowns.push(fn),
    instances: opts.instances ?? (() => []),
    resolve: opts.resolve ?? (() => Promise.reject(new Error('no resolve in this test'))),
    control: {
      reload: async () => {
        reloads++;
        await opts.reload?.();
      },
      fatal: (m) => void fatals.push(m),
    },
    async startup() {
      for (const fn of startups) await fn();
    },
    async shutdown() {
      for (const fn of shutdowns) await fn();
    },
    get reloads() {
      return reloads;
    },
    fatals,
  };
}

/** The first directive of a one-block Corefile text: directiveOf('health :8080 { lameduck 5s }'). */
export function directiveOf(text: string): Directive {
  const parsed = parseCorefile(`. {\n${text}\n}\n`, 'Corefile');
  return parsed.blocks[0]!.directives[0]!;
}

/** A TCP port free right now on 127.0.0.1 (for configs that must name their own port). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}

