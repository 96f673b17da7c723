// Loads a Corefile or YAML config into the validated Config model: keys resolved, `bind` read,
// each directive parsed by its plugin, options checked against the plugin's schema, plugins in execution order.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isIPv4, isIPv6 } from '../ip.js';
import type { AnyPlugin } from '../plugin.js';
import type { Registry } from '../registry.js';
import { parseCorefile } from './corefile.js';
import { ConfigError, didYouMean, errorAt } from './errors.js';
import { parseServerKeys } from './keys.js';
import type { Env } from './lexer.js';
import type { Config, Directive, PluginEntry, Position, ServerBlockConfig, ServerKey, Token } from './types.js';
import { type Locate, validateOptions } from './validate.js';
import { parseYamlConfig, yamlWorkers } from './yaml.js';

export interface LoadOptions {
  readonly registry: Registry;
  /** For {$VAR} and {%VAR%}; default: none (pass process.env to use the process's). */
  readonly env?: Env;
  /** The folder relative paths are resolved against; default: the config file's folder. */
  readonly configDir?: string;
  /** The port of keys without one (53, or -dns.port), for the duplicate zone:port check. */
  readonly defaultPort?: number;
  /** Told about things CoreDNS only warns about (a glob import matching no file). */
  readonly onWarning?: (message: string) => void;
}

/** Directives the loader handles itself, besides plugins. */
const CORE_DIRECTIVES = ['bind', 'import'];

export function loadConfigFile(file: string, opts: LoadOptions): Config {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new ConfigError(undefined, undefined, `cannot read config file ${file}: ${(err as Error).message}`, 'ERR_FILE');
  }
  return loadConfigText(text, file, opts);
}

export function loadConfigText(text: string, file: string, opts: LoadOptions): Config {
  const configDir = opts.configDir ?? dirname(resolve(file));
  let sources: ReadonlyMap<string, string> = new Map([[file, text]]);
  try {
    if (/\.ya?ml$/i.test(file)) {
      const servers = parseYamlConfig(text, file).map((s) => {
        const keys = parseServerKeys(s.keys);
        const plugins = s.plugins.map((p) => ({ name: p.name, options: p.options, locate: p.locate }));
        return block(keys, s.bind, plugins, s.pos, opts.registry);
      });
      checkDuplicateKeys(servers, opts.defaultPort ?? 53);
      const workers = yamlWorkers(text);
      return { file, files: mainFiles(file), servers, ...(workers !== undefined ? { workers } : {}) };
    }
    const parsed = parseCorefile(text, file, { env: opts.env ?? {}, baseDir: configDir, onWarning: opts.onWarning });
    sources = parsed.sources;
    const servers = parsed.blocks.map((b) => corefileBlock(b.keys, b.directives, b.pos, configDir, opts.registry));
    checkDuplicateKeys(servers, opts.defaultPort ?? 53);
    return { file, files: [...new Set([...mainFiles(file), ...parsed.imports])], servers };
  } catch (err) {
    if (err instanceof ConfigError && err.pos && err.sourceLine === undefined) {
      const line = sources.get(err.pos.file)?.split('\n')[err.pos.line - 1];
      if (line !== undefined) err.sourceLine = line.replace(/\r$/, '');
    }
    throw err;
  }
}

function mainFiles(file: string): string[] {
  return file.startsWith('<') ? [] : [resolve(file)];
}

/** A plugin occurrence before validation: its name token, its options, and how to locate a path in them. */
interface PendingPlugin {
  readonly name: Token;
  readonly options: unknown;
  readonly locate: Locate;
}

function corefileBlock(keyTokens: readonly Token[], directives: readonly Directive[], pos: Position, configDir: string, registry: Registry): ServerBlockConfig {
  const keys = parseServerKeys(keyTokens);
  const zones = [...new Set(keys.map((k) => k.zone))];
  const bind: Token[] = [];
  const pending: PendingPlugin[] = [];
  const seen = new Set<string>();
  for (const d of directives) {
    if (d.name.text === 'bind' && !d.name.quoted) {
      if (d.block) errorAt(d.name, undefined, 'bind: takes no block', 'ERR_SYNTAX');
      if (d.args.length === 0) errorAt(d.name, undefined, 'bind: wrong argument count: want at least 1, got 0', 'ERR_ARG_COUNT');
      bind.push(...d.args);
      continue;
    }
    const plugin = lookup(d.name, registry);
    checkOnce(plugin, d.name, seen);
    pending.push({ name: d.name, options: runParse(plugin, d, zones, configDir), locate: locateInDirective(d) });
  }
  return block(keys, bind, pending, pos, registry, true);
}

/** Validates plugins and bind addresses of one block and puts the plugins in execution order. */
function block(keys: ServerKey[], bind: readonly Token[], pending: readonly PendingPlugin[], pos: Position, registry: Registry, onceChecked = false): ServerBlockConfig {
  const addresses: string[] = [];
  for (const tok of bind) {
    if (!isIPv4(tok.text) && !isIPv6(tok.text)) errorAt(tok, undefined, `bind: '${tok.text}' is not an IP address`, 'ERR_BAD_VALUE');
    if (!addresses.includes(tok.text)) addresses.push(tok.text);
  }
  const seen = new Set<string>();
  const entries: (PluginEntry & { rank: number })[] = [];
  for (const p of pending) {
    const plugin = lookup(p.name, registry);
    if (!onceChecked) checkOnce(plugin, p.name, seen);
    validateOptions(plugin, p.options, p.locate);
    entries.push({ name: plugin.name, options: p.options, pos: p.name.pos, rank: registry.rank(plugin.name) });
  }
  // Array.prototype.sort is stable: repeated plugins keep their file order.
  entries.sort((a, b) => a.rank - b.rank);
  return { keys, bind: addresses, plugins: entries.map(({ name, options, pos: at }) => ({ name, options, pos: at })), pos };
}

function lookup(name: Token, registry: Registry): AnyPlugin {
  const plugin = registry.get(name.text);
  if (plugin) return plugin;
  const guess = didYouMean(name.text, [...registry.order(), ...CORE_DIRECTIVES]);
  return errorAt(name, undefined, `unknown directive '${name.text}'${guess ? ` (did you mean '${guess}'?)` : ''}`, 'ERR_UNKNOWN_DIRECTIVE');
}

function checkOnce(plugin: AnyPlugin, name: Token, seen: Set<string>): void {
  if (seen.has(plugin.name) && plugin.once !== false) {
    errorAt(name, plugin.name, `${plugin.name} may appear only once per server block`, 'ERR_DUPLICATE');
  }
  seen.add(plugin.name);
}

/** plugin.parse(), with anything that is not a ConfigError reported at the directive. */
function runParse(plugin: AnyPlugin, d: Directive, zones: readonly string[], configDir: string): unknown {
  try {
    return (plugin.parse as (d: Directive, ctx: { zones: readonly string[]; configDir: string }) => unknown)(d, { zones, configDir });
  } catch (err) {
    if (err instanceof ConfigError) throw err;
    const e = new ConfigError(d.name.pos, plugin.name, err instanceof Error ? err.message : String(err), 'ERR_BAD_VALUE');
    e.cause = err;
    throw e;
  }
}

/** A schema error points at the property the path starts with, when the block has one by that name. */
function locateInDirective(d: Directive): Locate {
  return (path, atKey) => {
    const first = path[0];
    const prop = typeof first === 'string' ? d.block?.find((p) => p.name.text === first) : undefined;
    if (!prop) return d.name.pos;
    if (!atKey && path.length === 1 && prop.args.length === 1) return prop.args[0]!.pos;
    return prop.name.pos;
  };
}

/** Two blocks (or keys) serving one zone on one port is an error, as in CoreDNS. */
function checkDuplicateKeys(servers: readonly ServerBlockConfig[], defaultPort: number): void {
  const seen = new Map<string, ServerKey>();
  for (const s of servers) {
    for (const k of s.keys) {
      const port = k.port ?? (k.scheme === 'tls' ? 853 : k.scheme === 'https' ? 443 : defaultPort);
      // Port 0 (tests) binds a fresh port per scheme, so only a key of the same scheme repeats it.
      const id = port === 0 ? `${k.scheme}://${k.zone}:0` : `${k.zone}:${port}`;
      const first = seen.get(id);
      if (first) {
        const where = `${first.pos.file}:${first.pos.line}:${first.pos.col}`;
        errorAt(k.pos, undefined, `zone '${k.zone || '.'}' on port ${port} is already served (by the key at ${where})`, 'ERR_DUPLICATE');
      }
      seen.set(id, k);
    }
  }
}
