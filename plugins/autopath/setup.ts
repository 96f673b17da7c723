// autopath: Corefile parsing (`autopath [ZONE...] RESOLV-CONF|@PLUGIN`), the options schema, and setup.
import { readFileSync } from 'node:fs';
import { isAbsolute, resolve } from 'node:path';
import {
  errorAt, expectNoBlock, normalizeZone, zonesArg, type Directive, type Handler, type JsonSchema, type ParseContext, type SetupEnv,
} from 'nodens';
import { AutoPath, isAutoPather, type AutoPather } from './autopath.js';

const NAME = 'autopath';

export interface AutoPathOptions {
  /** Zones autopath acts in; default: the server block's. */
  zones?: string[];
  /** A resolv.conf whose search domains are every client's search path. */
  resolv_conf?: string;
  /** The plugin that knows each client's search path (`@kubernetes`). */
  plugin?: string;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    zones: { type: 'array', items: { type: 'string' } },
    resolv_conf: { type: 'string', minLength: 1 },
    plugin: { type: 'string', minLength: 1 },
  },
  oneOf: [{ required: ['resolv_conf'] }, { required: ['plugin'] }],
};

export function parse(d: Directive, ctx: ParseContext): AutoPathOptions {
  expectNoBlock(d, NAME);
  const last = d.args[d.args.length - 1];
  if (last === undefined) errorAt(d.name, NAME, 'no resolv-conf specified (autopath [ZONE...] RESOLV-CONF|@kubernetes)', 'ERR_ARG_COUNT');
  const opts: AutoPathOptions = last.text.startsWith('@') ? { plugin: last.text.slice(1) } : { resolv_conf: last.text };
  if (opts.plugin === '') errorAt(last, NAME, "'@' must name a plugin (@kubernetes)", 'ERR_BAD_VALUE');
  if (d.args.length > 1) opts.zones = zonesArg(d.args.slice(0, -1), ctx, NAME);
  return opts;
}

/** resolv.conf's search domains (the last `search` or `domain` line), normalised. */
export function searchDomains(text: string): string[] {
  let out: string[] = [];
  for (const line of text.split('\n')) {
    const words = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (words[0] === 'search' || words[0] === 'domain') out = words.slice(1).filter((w) => w !== '').map(normalizeZone);
  }
  return out;
}

export function setup(options: AutoPathOptions, env: SetupEnv): Handler {
  const zones = (options.zones ?? env.zones).map(normalizeZone);
  const success = env.metrics.counter('coredns_autopath_success_count_total', 'Counter of requests that did autopath.', ['server']);
  const server = env.listen[0] ? `dns://:${env.listen[0].port}` : '';
  const onSuccess = () => success.inc({ server });
  if (options.resolv_conf !== undefined) {
    const file = isAbsolute(options.resolv_conf) ? options.resolv_conf : resolve(env.configDir, options.resolv_conf);
    let text = '';
    try {
      text = readFileSync(file, 'utf8');
    } catch (err) {
      // CoreDNS refuses to start; here a config that --validate accepts always starts (the check reads no
      // files), so the error is logged and autopath passes every query on.
      env.logger.error(`failed to parse ${JSON.stringify(options.resolv_conf)}: ${(err as Error).message}; autopath is off`);
      return new AutoPath({ zones, searchPath: () => undefined });
    }
    const search = [...searchDomains(text), ''];
    return new AutoPath({ zones, searchPath: () => search, onSuccess });
  }
  // @PLUGIN: found once every plugin is set up. Absent, autopath does nothing (as in CoreDNS).
  let pather: AutoPather | undefined;
  env.onStartup(() => {
    const named = env.instances().filter((i) => i.name === options.plugin);
    const inst = named.find((i) => i.zones.join() === env.zones.join()) ?? named[0];
    if (inst === undefined) return;
    if (isAutoPather(inst.handler)) pather = inst.handler;
    else env.logger.error(`${options.plugin} does not implement the AutoPather interface`);
  });
  return new AutoPath({ zones, searchPath: (req) => pather?.autoPath(req), onSuccess });
}
