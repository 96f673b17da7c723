// createServer: the one call that embedders, the CLI and the tests use to run nodens.
import { pathToFileURL } from 'node:url';
import path from 'node:path';
import { builtinPlugins } from '../plugins/index.js';
import { loadConfigFile, loadConfigText } from './config/load.js';
import type { Config } from './config/types.js';
import { createLogger, type Logger } from './log.js';
import type { AnyPlugin } from './plugin.js';
import { Registry } from './registry.js';
import { DnsServer, type ServerOptions } from './server.js';

export interface CreateServerOptions extends Omit<ServerOptions, 'config' | 'registry' | 'loadConfig'> {
  /** A config file (Corefile, or .yaml/.yml). */
  readonly file?: string;
  /** Or the Corefile's text (`file` then only names it in messages and sets the config folder). */
  readonly corefile?: string;
  /** External plugins, placed by their before/after. */
  readonly plugins?: readonly AnyPlugin[];
  readonly env?: Record<string, string | undefined>;
}

export function createRegistry(external: readonly AnyPlugin[] = []): Registry {
  const registry = new Registry(builtinPlugins);
  for (const p of external) registry.add(p);
  return registry;
}

/** Reads (and validates) the config the options name, without starting anything. */
export function readConfig(opts: CreateServerOptions, registry: Registry, logger?: Logger): Config {
  const load = {
    registry,
    env: opts.env ?? process.env,
    defaultPort: opts.defaultPort ?? 53,
    onWarning: (message: string) => logger?.warn(message),
  };
  if (opts.corefile !== undefined) {
    const file = opts.file ?? '<string>';
    return loadConfigText(opts.corefile, file, { ...load, configDir: opts.file ? path.dirname(path.resolve(opts.file)) : process.cwd() });
  }
  if (!opts.file) throw new Error('no config: give a file or a Corefile text');
  return loadConfigFile(opts.file, load);
}

/** Loads the config and starts a server on it. */
export async function createServer(opts: CreateServerOptions): Promise<DnsServer> {
  const registry = createRegistry(opts.plugins);
  const logger: Logger = opts.logger ?? createLogger();
  const config = readConfig(opts, registry, logger);
  return DnsServer.start({
    ...opts,
    logger,
    config,
    registry,
    // A reload re-reads the file; a server started from text has nothing to re-read but the text.
    loadConfig: () => readConfig(opts, registry, logger),
  });
}

/** Imports an external plugin by module specifier (a path, or a package name). */
export async function importPlugin(specifier: string, from = process.cwd()): Promise<AnyPlugin> {
  const isPath = specifier.startsWith('.') || specifier.startsWith('/');
  const url = isPath ? pathToFileURL(path.resolve(from, specifier)).href : specifier;
  const mod = (await import(url)) as { default?: unknown };
  const plugin = mod.default as AnyPlugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || typeof plugin.setup !== 'function' || typeof plugin.parse !== 'function') {
    throw new Error(`${specifier}: the default export is not a plugin (use definePlugin({ name, schema, parse, setup }))`);
  }
  return plugin;
}
