// Loads a Corefile or YAML config into the validated Config model: keys resolved, `bind` read,
// each directive parsed by its plugin, options checked against the plugin's schema and its check(),
// plugins in execution order. Independent errors are collected and thrown together (ConfigErrors).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { isIPv4, isIPv6 } from '../ip.js';
import type { AnyPlugin, CheckContext } from '../plugin.js';
import type { Registry } from '../registry.js';
import { Collector } from './collect.js';
import { parseCorefile, type RawBlock } from './corefile.js';
import { asConfigError, ConfigError, type ConfigWarning, didYouMean, errorAt, formatPosition, formatWarning } from './errors.js';
import { parseServerKey } from './keys.js';
import type { Env } from './lexer.js';
import { lintBlock } from './lint.js';
import type { Config, Directive, ParseContext, PluginEntry, Position, ServerBlockConfig, ServerKey, Token } from './types.js';
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
  /** Told about each warning (a glob import matching no file, a plugin that cannot be reached), formatted. */
  readonly onWarning?: (message: string) => void;
  /** More to say about an unknown directive (the CLI: "a package of that name is installed: use --plugin"). */
  readonly unknownDirectiveHint?: (name: string) => string | undefined;
}

/** CoreDNS's plugins (its plugin.cfg), to tell "not in nodens" from "not a plugin at all". */
const COREDNS_PLUGINS = new Set([
  'acl', 'any', 'auto', 'autopath', 'azure', 'bufsize', 'cache', 'cancel', 'chaos', 'clouddns', 'debug', 'dns64', 'dnssec',
  'dnstap', 'erratic', 'errors', 'etcd', 'file', 'forward', 'geoip', 'grpc', 'header', 'health', 'hosts', 'k8s_external',
  'kubernetes', 'loadbalance', 'local', 'log', 'loop', 'metadata', 'minimal', 'multisocket', 'nsid', 'pprof', 'prometheus',
  'ready', 'reload', 'rewrite', 'root', 'route53', 'secondary', 'sign', 'template', 'timeouts', 'tls', 'trace', 'transfer',
  'tsig', 'view', 'whoami',
]);

/** Directives the loader handles itself, besides plugins. */
export const CORE_DIRECTIVES = ['bind', 'import'];

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
  const errors = new Collector(file);
  let sources: ReadonlyMap<string, string> = new Map([[file, text]]);
  let unset: ReadonlyMap<string, readonly string[]> = new Map();
  let files = mainFiles(file);
  let servers: ServerBlockConfig[] = [];
  let workers: number | undefined;
  const ctx: LoadContext = { registry: opts.registry, configDir, errors, hint: opts.unknownDirectiveHint };
  try {
    if (/\.ya?ml$/i.test(file)) {
      servers = parseYamlConfig(text, file, errors).map((s) => {
        const keys = serverKeys(s.keys, errors);
        const zones = [...new Set(keys.map((k) => k.zone))];
        const pending = s.plugins.flatMap((p) => errors.run(() => yamlPlugin(p.name, p.options, p.locate, ctx)) ?? []);
        return block(keys, zones, s.bind, pending, s.pos, ctx);
      });
      workers = yamlWorkers(text);
    } else {
      const parsed = parseCorefile(text, file, {
        env: opts.env ?? {}, baseDir: configDir,
        isDirective: (word) => isDirectiveName({ text: word, pos: { file, line: 0, col: 0 } }, opts.registry),
        onWarning: (message) => errors.warn({ code: 'WARN_IMPORT_GLOB', pos: undefined, message }),
      });
      sources = parsed.sources;
      unset = parsed.unset;
      files = [...new Set([...files, ...parsed.imports])];
      servers = parsed.blocks.map((b) => corefileBlock(b, ctx));
    }
    checkDuplicateKeys(servers, opts.defaultPort ?? 53, errors);
  } catch (err) {
    // A syntax error: the structure after it cannot be trusted, so it ends the collection.
    errors.add(err);
  }
  nameUnsetVariables(errors, unset);
  const sourceLine = (pos: Position): string | undefined => sources.get(pos.file)?.split('\n')[pos.line - 1]?.replace(/\r$/, '');
  errors.throwIfAny([file, ...files.filter((f) => f !== file)], sourceLine);
  for (const w of errors.warnings) opts.onWarning?.(formatWarning(w));
  return {
    file, files, servers,
    ...(workers !== undefined ? { workers } : {}),
    ...(errors.warnings.length > 0 ? { warnings: errors.warnings } : {}),
  };
}

function mainFiles(file: string): string[] {
  return file.startsWith('<') ? [] : [resolve(file)];
}

interface LoadContext {
  readonly registry: Registry;
  readonly configDir: string;
  readonly errors: Collector;
  readonly hint?: ((name: string) => string | undefined) | undefined;
}

/** A plugin occurrence before validation: its name token, its options, and how to locate a path in them. */
interface PendingPlugin {
  readonly plugin: AnyPlugin;
  readonly name: Token;
  readonly options: unknown;
  readonly locate: Locate;
}

function serverKeys(tokens: readonly Token[], errors: Collector): ServerKey[] {
  return tokens.flatMap((tok) => errors.run(() => parseServerKey(tok)) ?? []);
}

function yamlPlugin(name: Token, options: unknown, locate: Locate, ctx: LoadContext): PendingPlugin {
  return { plugin: lookup(name, ctx), name, options, locate };
}

function corefileBlock(raw: RawBlock, ctx: LoadContext): ServerBlockConfig {
  const { errors } = ctx;
  const directiveKey = raw.keys.find((k) => isDirectiveName(k, ctx.registry));
  if (directiveKey) {
    // `prometheus :9153` at the top level: the rest of this "block" is not what the user wrote it as.
    errors.add(new ConfigError(directiveKey.pos, undefined,
      `'${directiveKey.text}' is a plugin, not a zone: did you mean to put this line inside a server block?`, 'ERR_KEY_IS_DIRECTIVE'));
    return { keys: [], bind: [], plugins: [], pos: raw.pos };
  }
  const keys = serverKeys(raw.keys, errors);
  const zones = [...new Set(keys.map((k) => k.zone))];
  const bind: Token[] = [];
  const pending: PendingPlugin[] = [];
  const seen = new Set<string>();
  for (const d of raw.directives) {
    errors.run(() => {
      if (d.name.text === 'bind' && !d.name.quoted) {
        if (d.block) errorAt(d.name, undefined, 'bind: takes no block', 'ERR_SYNTAX');
        if (d.args.length === 0) errorAt(d.name, undefined, 'bind: wrong argument count: want at least 1, got 0', 'ERR_ARG_COUNT');
        bind.push(...d.args);
        return;
      }
      const plugin = lookup(d.name, ctx);
      checkOnce(plugin, d.name, seen);
      pending.push({ plugin, name: d.name, options: runParse(plugin, d, zones, ctx.configDir), locate: locateInDirective(d) });
    });
  }
  return block(keys, zones, bind, pending, raw.pos, ctx, seen);
}

/** A key that is a bare plugin or core directive name (no dot, no port, no scheme). */
function isDirectiveName(key: Token, registry: Registry): boolean {
  return !key.quoted && /^[a-z_0-9]+$/.test(key.text) && (registry.get(key.text) !== undefined || CORE_DIRECTIVES.includes(key.text));
}

/** Validates and checks plugins and bind addresses of one block, puts the plugins in execution order, lints. */
function block(keys: ServerKey[], zones: string[], bind: readonly Token[], pending: readonly PendingPlugin[], pos: Position, ctx: LoadContext, onceChecked?: Set<string>): ServerBlockConfig {
  const { errors } = ctx;
  const addresses: string[] = [];
  for (const tok of bind) {
    errors.run(() => {
      if (!isIPv4(tok.text) && !isIPv6(tok.text)) errorAt(tok, undefined, `bind: '${tok.text}' is not an IP address`, 'ERR_BAD_VALUE');
      if (!addresses.includes(tok.text)) addresses.push(tok.text);
    });
  }
  const seen = new Set<string>();
  const entries: (PluginEntry & { rank: number; plugin: AnyPlugin })[] = [];
  for (const p of pending) {
    errors.run(() => {
      if (!onceChecked) checkOnce(p.plugin, p.name, seen);
      validateOptions(p.plugin, p.options, p.locate);
      const options = runCheck(p.plugin, p.options, { zones, configDir: ctx.configDir, at: (path) => p.locate(path, false) }, p.name.pos);
      entries.push({ name: p.plugin.name, options, pos: p.name.pos, rank: ctx.registry.rank(p.plugin.name), plugin: p.plugin });
    });
  }
  // Array.prototype.sort is stable: repeated plugins keep their file order.
  entries.sort((a, b) => a.rank - b.rank);
  for (const w of lintBlock(entries, zones, pos, { zones, configDir: ctx.configDir })) errors.warn(w);
  return { keys, bind: addresses, plugins: entries.map(({ name, options, pos: at }) => ({ name, options, pos: at })), pos };
}

function lookup(name: Token, ctx: LoadContext): AnyPlugin {
  const plugin = ctx.registry.get(name.text);
  if (plugin) return plugin;
  const hint = ctx.hint?.(name.text)
    ?? (COREDNS_PLUGINS.has(name.text) ? 'a CoreDNS plugin that nodens does not have built in: load an external one with --plugin MODULE' : undefined);
  const guess = hint ? undefined : didYouMean(name.text, [...ctx.registry.order(), ...CORE_DIRECTIVES]);
  const more = hint ? ` (${hint})` : guess ? ` (did you mean '${guess}'?)` : '';
  return errorAt(name, undefined, `unknown directive '${name.text}'${more}`, 'ERR_UNKNOWN_DIRECTIVE');
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
    return (plugin.parse as (d: Directive, ctx: ParseContext) => unknown)(d, { zones, configDir });
  } catch (err) {
    throw asPluginError(err, plugin, d.name.pos);
  }
}

/** plugin.check(), if it has one: the options setup() will get. */
function runCheck(plugin: AnyPlugin, options: unknown, ctx: CheckContext, pos: Position): unknown {
  if (!plugin.check) return options;
  try {
    const checked = (plugin.check as (o: unknown, c: CheckContext) => unknown)(options, ctx);
    return checked === undefined ? options : checked;
  } catch (err) {
    throw asPluginError(err, plugin, pos);
  }
}

/** A plugin's error as a ConfigError: its own (even from another copy of nodens), or one at `pos`. */
export function asPluginError(err: unknown, plugin: AnyPlugin, pos: Position): ConfigError {
  const known = asConfigError(err);
  if (known) return known.pos || !known.plugin ? known : new ConfigError(pos, known.plugin, known.detail, known.code);
  const e = new ConfigError(pos, plugin.name, err instanceof Error ? err.message : String(err), 'ERR_BAD_VALUE');
  e.cause = err;
  return e;
}

/** A schema error points at the property the path starts with, when the block has one by that name. */
function locateInDirective(d: Directive): Locate {
  return (path, atKey) => {
    const first = path[0];
    const prop = typeof first === 'string' ? d.block?.find((p) => p.name.text === first) : undefined;
    if (!prop) return d.name.pos;
    if (!atKey && path.length === 1 && prop.args.length === 1) return prop.args[0]!.pos;
    if (!atKey && path.length === 2 && typeof path[1] === 'number' && prop.args[path[1]]) return prop.args[path[1]]!.pos;
    return prop.name.pos;
  };
}

/** Two blocks (or keys) serving one zone on one port is an error, as in CoreDNS. */
function checkDuplicateKeys(servers: readonly ServerBlockConfig[], defaultPort: number, errors: Collector): void {
  const seen = new Map<string, ServerKey>();
  for (const s of servers) {
    for (const k of s.keys) {
      const port = k.port ?? defaultPort;
      const id = `${k.zone}:${port}`;
      const first = seen.get(id);
      if (first) {
        errors.add(new ConfigError(k.pos, undefined, `zone '${k.zone || '.'}' on port ${port} is already served (by the key at ${formatPosition(first.pos)})`, 'ERR_DUPLICATE'));
        continue;
      }
      seen.set(id, k);
    }
  }
}

/** `'' is not an IP address` says why when the token was an unset `{$UPSTREAM}`. */
function nameUnsetVariables(errors: Collector, unset: ReadonlyMap<string, readonly string[]>): void {
  if (unset.size === 0) return;
  errors.errors.forEach((e, i) => {
    const names = e.pos ? unset.get(formatPosition(e.pos)) : undefined;
    if (!names) return;
    const note = `${names.join(', ')} ${names.length === 1 ? 'is' : 'are'} not set in the environment`;
    errors.errors[i] = new ConfigError(e.pos, e.plugin, `${e.detail} (${note})`, e.code);
  });
}

export type { ConfigWarning };
