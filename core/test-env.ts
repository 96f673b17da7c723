// The plugin author's setup-side test kit: a SetupEnv fake for calling setup() without a server, and
// "parse this Corefile snippet into my options" through the real loader (parse, schema, defaults).
import net, { type AddressInfo } from 'node:net';
import { parseCorefile } from './config/corefile.js';
import { loadConfigText } from './config/load.js';
import type { Directive } from './config/types.js';
import { memoryLogger } from './log.js';
import { createMetrics, type Metrics } from './metrics.js';
import type { Message, Reply } from './message.js';
import type { AnyPlugin, PluginDefinition, PluginInstance, Peer, SetupEnv, Transport } from './plugin.js';
import { Registry } from './registry.js';

export interface TestEnv extends SetupEnv {
  readonly logger: SetupEnv['logger'] & { lines: string[] };
  readonly metrics: Metrics;
  /** Runs the onStartup hooks, in order. */
  startup(): Promise<void>;
  /** Runs the onShutdown hooks, in order. */
  shutdown(): Promise<void>;
  /** How many times control.reload() was called. */
  readonly reloads: number;
  /** Messages given to control.fatal(). */
  readonly fatals: string[];
}

export interface TestEnvOptions {
  /** The plugin whose logger this is (lines read "[INFO] plugin/NAME: ..."). */
  plugin?: string;
  zones?: string[];
  configDir?: string;
  configFile?: string;
  configFiles?: string[];
  listen?: (Peer & { transport: Transport })[];
  metrics?: Metrics;
  instances?: () => readonly PluginInstance[];
  reload?: () => Promise<void>;
  resolve?: (q: Message) => Promise<Reply>;
}

/** A SetupEnv for calling a plugin's setup() in tests: hooks are collected and run by hand, control calls recorded. */
export function testEnv(opts: TestEnvOptions = {}): TestEnv {
  const startups: (() => void | Promise<void>)[] = [];
  const shutdowns: (() => void | Promise<void>)[] = [];
  const fatals: string[] = [];
  let reloads = 0;
  const root = memoryLogger();
  return {
    logger: Object.assign(opts.plugin ? root.child(opts.plugin) : root, { lines: root.lines }),
    zones: opts.zones ?? [''],
    configDir: opts.configDir ?? '/nonexistent',
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

/** The first directive of a one-block Corefile text, unparsed: directiveOf('health :8080 { lameduck 5s }'). */
export function directiveOf(text: string): Directive {
  const parsed = parseCorefile(`. {\n${text}\n}\n`, 'Corefile');
  return parsed.blocks[0]!.directives[0]!;
}

export interface ParseDirectiveOptions {
  /** The server block's zones (default: the root). */
  zones?: readonly string[];
  /** Where relative paths resolve from (default: the current folder). */
  configDir?: string;
  /** For {$VAR} in the text. */
  env?: Record<string, string | undefined>;
}

/**
 * A plugin's options from Corefile text, as a server would get them: `plugin.parse()`, then its
 * schema (defaults filled in). `text` is the directive and its block: `parseDirective(rewrite, 'rewrite name a b')`.
 * Throws the ConfigError a server would (file 'Corefile'; the directive is on line 2).
 */
export function parseDirective<Options>(plugin: PluginDefinition<Options>, text: string, opts: ParseDirectiveOptions = {}): Options {
  const registry = new Registry([plugin as AnyPlugin]);
  const zones = opts.zones && opts.zones.length > 0 ? opts.zones.map((z) => (z === '' ? '.' : z)).join(' ') : '.';
  const config = loadConfigText(`${zones} {\n${text}\n}\n`, 'Corefile', {
    registry, env: opts.env ?? {}, configDir: opts.configDir ?? process.cwd(),
  });
  const entry = config.servers[0]?.plugins.find((p) => p.name === plugin.name);
  if (!entry) throw new Error(`parseDirective: the text has no '${plugin.name}' directive`);
  return entry.options as Options;
}

/** A TCP port free right now on 127.0.0.1 (for configs that must name their own port). */
export async function freePort(): Promise<number> {
  const srv = net.createServer();
  await new Promise<void>((r) => srv.listen(0, '127.0.0.1', () => r()));
  const { port } = srv.address() as AddressInfo;
  await new Promise<void>((r) => srv.close(() => r()));
  return port;
}
