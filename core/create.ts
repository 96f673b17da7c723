// createServer: the one call that embedders, the CLI and the tests use to run nodens.
import fs from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
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
  /** A config already read (by readConfig), so it is not read and warned about twice; reload still re-reads. */
  readonly config?: Config;
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
    unknownDirectiveHint: (name: string) => {
      const pkg = installedPluginPackage(name);
      return pkg ? `the package '${pkg}' is installed: load it with --plugin ${pkg}` : undefined;
    },
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
  const config = opts.config ?? readConfig(opts, registry, logger);
  return DnsServer.start({
    ...opts,
    logger,
    config,
    registry,
    // A reload re-reads the file; a server started from text has nothing to re-read but the text.
    loadConfig: () => readConfig(opts, registry, logger),
  });
}

/**
 * Imports an external plugin by module specifier: a path, or a package name resolved from `from` (the
 * current folder: the user's node_modules) first, then from nodens's own folder (a package installed
 * beside nodens, globally or in a monorepo).
 */
export async function importPlugin(specifier: string, from = process.cwd()): Promise<AnyPlugin> {
  const isPath = specifier.startsWith('.') || specifier.startsWith('/');
  const url = isPath ? pathToFileURL(path.resolve(from, specifier)).href : (resolvePackage(specifier, from) ?? specifier);
  const mod = (await import(url)) as { default?: unknown };
  const plugin = mod.default as AnyPlugin | undefined;
  if (!plugin || typeof plugin !== 'object' || typeof plugin.name !== 'string' || typeof plugin.setup !== 'function' || typeof plugin.parse !== 'function') {
    throw new Error(`${specifier}: the default export is not a plugin (use definePlugin({ name, schema, parse, setup }))`);
  }
  return plugin;
}

/** The file URL of package `specifier` as seen from folder `from`, or undefined if it is not installed there. */
export function resolvePackage(specifier: string, from: string): string | undefined {
  try {
    return pathToFileURL(createRequire(path.join(from, 'noop.js')).resolve(specifier)).href;
  } catch {
    // An ESM-only package (exports with only an `import` condition) is not require()-able: read its package.json.
  }
  const [name, sub] = splitSpecifier(specifier);
  const dir = packageDir(name, from);
  if (!dir) return undefined;
  let manifest: { exports?: unknown; module?: string; main?: string };
  try {
    manifest = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as typeof manifest;
  } catch {
    return undefined;
  }
  const entry = exportTarget(manifest.exports, sub ? `./${sub}` : '.') ?? (sub ? `./${sub}` : manifest.module ?? manifest.main ?? './index.js');
  return pathToFileURL(path.join(dir, entry)).href;
}

function splitSpecifier(specifier: string): [string, string | undefined] {
  const parts = specifier.split('/');
  const n = specifier.startsWith('@') ? 2 : 1;
  const rest = parts.slice(n).join('/');
  return [parts.slice(0, n).join('/'), rest === '' ? undefined : rest];
}

/** The folder of package `name` in the node_modules of `from` or a folder above it. */
function packageDir(name: string, from: string): string | undefined {
  for (let dir = path.resolve(from); ; dir = path.dirname(dir)) {
    const candidate = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(candidate, 'package.json'))) return candidate;
    if (path.dirname(dir) === dir) return undefined;
  }
}

/** The `import` (or `default`) target of `subpath` in a package.json `exports` field. */
function exportTarget(exports: unknown, subpath: string): string | undefined {
  if (typeof exports === 'string') return subpath === '.' ? exports : undefined;
  if (typeof exports !== 'object' || exports === null) return undefined;
  const map = exports as Record<string, unknown>;
  const target = Object.keys(map).some((k) => k.startsWith('.')) ? map[subpath] : subpath === '.' ? map : undefined;
  return conditionTarget(target);
}

function conditionTarget(target: unknown): string | undefined {
  if (typeof target === 'string') return target;
  if (typeof target !== 'object' || target === null) return undefined;
  const t = target as Record<string, unknown>;
  for (const key of ['import', 'node', 'default']) {
    const v = conditionTarget(t[key]);
    if (v) return v;
  }
  return undefined;
}

/**
 * A package installed in the current folder that may hold plugin `name` (`name`, `nodens-plugin-name`,
 * `nodens-name`): one that says it is for nodens (depends on it, or has the keyword), not any package
 * that happens to share a directive's name.
 */
export function installedPluginPackage(name: string, from = process.cwd()): string | undefined {
  if (!/^[a-z0-9][a-z0-9._-]*$/.test(name)) return undefined;
  return [name, `nodens-plugin-${name}`, `nodens-${name}`].find((pkg) => {
    const dir = packageDir(pkg, from);
    if (!dir) return false;
    try {
      const m = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8')) as Record<string, unknown>;
      const deps = ['peerDependencies', 'dependencies', 'devDependencies'].map((k) => (m[k] ?? {}) as Record<string, unknown>);
      return deps.some((d) => 'nodens' in d) || (Array.isArray(m.keywords) && m.keywords.some((k) => k === 'nodens' || k === 'nodens-plugin'));
    } catch {
      return false;
    }
  });
}
