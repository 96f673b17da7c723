// hosts: Corefile parsing, the options schema, and setup (file reading, reload timer, metrics).
import { readFile, stat } from 'node:fs/promises';
import { isAbsolute, resolve } from 'node:path';
import {
  DURATION_PATTERN, durationArg, expectArgs, expectNoBlock, fallthroughArg, intArg, parseDuration, unknownProperty, zonesArg, zonesOption,
} from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive, ParseContext, Token } from '../../core/config/types.js';
import type { CheckContext, Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import { fastHosts, PtrAnswers, serveHosts, type HostsState } from './hosts.js';
import { buildIndex, emptyHostsMap, parseAddress, parseHosts, type HostsMap } from './hostsfile.js';

const NAME = 'hosts';

export interface HostsOptions {
  /** The hosts file; default /etc/hosts. Relative paths are taken from the config file's folder. */
  file?: string;
  /** Zones the plugin answers for; default: the server block's. */
  zones?: string[];
  /** Hosts lines written in the Corefile block. */
  inline?: string[];
  /** TTL of every record, in seconds; default 3600. */
  ttl?: number;
  no_reverse?: boolean;
  /** How often to look at the file for changes; default 5s, 0 disables. */
  reload?: string;
  /** Absent: never fall through; [] all zones. */
  fallthrough?: string[];
  fallthrough_unsupported?: boolean;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    file: { type: 'string', minLength: 1 },
    zones: { type: 'array', items: { type: 'string' } },
    inline: { type: 'array', items: { type: 'string' } },
    ttl: { type: 'integer', minimum: 1, maximum: 65535 },
    no_reverse: { type: 'boolean' },
    reload: { type: 'string', pattern: DURATION_PATTERN },
    fallthrough: { type: 'array', items: { type: 'string' } },
    fallthrough_unsupported: { type: 'boolean' },
  },
};

const PROPERTIES = ['ttl', 'no_reverse', 'reload', 'fallthrough', 'fallthrough_unsupported'];

export function parse(d: Directive, ctx: ParseContext): HostsOptions {
  const opts: HostsOptions = {};
  if (d.args.length > 0) opts.file = d.args[0]!.text;
  if (d.args.length > 1) opts.zones = zonesArg(d.args.slice(1), ctx, NAME);
  let unsupportedAt: Token | undefined;
  for (const p of d.block ?? []) {
    switch (p.name.text) {
      case 'ttl':
        opts.ttl = intArg(expectArgs(p, NAME, 1)[0]!, NAME, 1, 65535);
        break;
      case 'no_reverse':
        expectArgs(p, NAME, 0);
        opts.no_reverse = true;
        break;
      case 'reload':
        opts.reload = durationArg(expectArgs(p, NAME, 1)[0]!, NAME);
        break;
      case 'fallthrough':
        opts.fallthrough = fallthroughArg(p.args, ctx, NAME);
        break;
      case 'fallthrough_unsupported':
        expectArgs(p, NAME, 0);
        opts.fallthrough_unsupported = true;
        unsupportedAt = p.name;
        break;
      default:
        // Hosts lines may be written inline, but only before fallthrough (CoreDNS's rule). A line
        // whose first word is no address is a misspelled property, not a hosts line to skip.
        if (opts.fallthrough !== undefined || parseAddress(p.name.text) === undefined) unknownProperty(p, NAME, PROPERTIES);
        expectNoBlock(p, NAME);
        (opts.inline ??= []).push([p.name, ...p.args].map((t) => t.text).join(' '));
    }
  }
  if (unsupportedAt && opts.fallthrough === undefined) errorAt(unsupportedAt, NAME, 'fallthrough_unsupported requires fallthrough', 'ERR_BAD_VALUE');
  return opts;
}

/** Zones and fallthrough zones canonical, for YAML options as for parsed ones. */
export function check(o: HostsOptions, ctx: CheckContext): HostsOptions {
  const zones = zonesOption(o.zones, ctx, ['zones'], NAME);
  const fallthrough = zonesOption(o.fallthrough, ctx, ['fallthrough'], NAME);
  return { ...o, ...(zones ? { zones } : {}), ...(fallthrough ? { fallthrough } : {}) };
}

/** Without fallthrough, every name in its zones is answered here (NXDOMAIN if unknown). */
export function answers(o: HostsOptions, ctx: ParseContext): readonly string[] {
  return o.fallthrough === undefined ? (o.zones ?? ctx.zones) : [];
}

/** The file's identity for change detection: CoreDNS re-reads only when mtime or size differ. */
interface FileStamp {
  mtimeMs: number;
  size: number;
}

export async function setup(options: HostsOptions, env: SetupEnv): Promise<Handler> {
  const origins = (options.zones ?? env.zones).map(normalizeZone);
  const ttl = options.ttl ?? 3600;
  const autoReverse = !options.no_reverse;
  const file = options.file ?? '/etc/hosts';
  const path = isAbsolute(file) ? file : resolve(env.configDir, file);
  const inline = parseHosts((options.inline ?? []).join('\n'), origins, autoReverse);
  const entries = env.metrics.gauge('coredns_hosts_entries', 'The combined number of entries in hosts and Corefile.');
  const reloaded = env.metrics.gauge('coredns_hosts_reload_timestamp_seconds', 'The timestamp of the last reload of hosts file.');

  let fromFile: HostsMap = emptyHostsMap();
  let stamp: FileStamp | undefined;
  const state: HostsState = {
    index: buildIndex([fromFile, inline], ttl),
    origins,
    fall: options.fallthrough?.map(normalizeZone),
    fallUnsupported: options.fallthrough_unsupported ?? false,
  };

  /** Re-reads the file when it changed; a file that cannot be read keeps the entries we have. */
  const refresh = async (): Promise<void> => {
    let st;
    try {
      st = await stat(path);
    } catch (err) {
      if (stamp === undefined && (err as NodeJS.ErrnoException).code === 'ENOENT') env.logger.warn(`File does not exist: ${path}`);
      return;
    }
    if (st.isDirectory()) {
      if (stamp === undefined) env.logger.warn(`Hosts file "${path}" is a directory`);
      return;
    }
    if (stamp && stamp.mtimeMs === st.mtimeMs && stamp.size === st.size) return;
    let text: string;
    try {
      text = await readFile(path, 'utf8');
    } catch (err) {
      env.logger.warn(`Failed to read ${path}: ${(err as Error).message}`);
      return;
    }
    fromFile = parseHosts(text, origins, autoReverse);
    stamp = { mtimeMs: st.mtimeMs, size: st.size };
    state.index = buildIndex([fromFile, inline], ttl);
    entries.set(state.index.size);
    reloaded.set(st.mtimeMs / 1000);
    env.logger.debug(`Parsed hosts file into ${state.index.size} entries`);
  };

  await refresh();
  entries.set(state.index.size);

  const every = parseDuration(options.reload ?? '5s');
  let busy = false;
  const timer = every > 0
    ? setInterval(() => {
        if (busy) return;
        busy = true;
        refresh().finally(() => (busy = false));
      }, every)
    : undefined;
  timer?.unref();

  const ptrAnswers = new PtrAnswers();
  return {
    serve: (req, next) => serveHosts(state, req, next),
    fast: { answer: (req) => fastHosts(state, ptrAnswers, req) },
    close: () => clearInterval(timer),
  };
}
