// prometheus: `prometheus [ADDRESS]` -> options -> the counting handler and the /metrics endpoint.
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { expectArgs } from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, PluginInstance, SetupEnv } from '../../core/plugin.js';
import { ADDRESS_SCHEMA, addressArg } from '../pkg/http-listener.js';
import { zoneLabel } from './dns-metrics.js';
import { Prometheus } from './prometheus.js';

export interface PrometheusConfig {
  /** `HOST:PORT`; default `localhost:9153`. */
  address?: string;
}

export const DEFAULT_ADDRESS = 'localhost:9153';

export const schema: JsonSchema = {
  type: 'object',
  properties: { address: ADDRESS_SCHEMA },
  additionalProperties: false,
};

export function parse(d: Directive): PrometheusConfig {
  const args = expectArgs(d, 'prometheus', 0, 1);
  for (const prop of d.block ?? []) {
    // CoreDNS's runtime_metrics (Go runtime) and tls have no equivalent here: say so rather than ignore them.
    errorAt(prop.name, 'prometheus', `unknown property '${prop.name.text}' (nodens supports no prometheus properties)`, 'ERR_UNKNOWN_PROPERTY');
  }
  if (!args[0]) return {};
  return { address: addressArg(args[0], 'prometheus', ':9153 or localhost:9153') };
}

export function setup(options: PrometheusConfig, env: SetupEnv): Handler {
  const m = env.metrics;
  const info = m.gauge('coredns_build_info', "A metric with a constant '1' value labeled by version, revision, and goversion from which CoreDNS was built.", ['version', 'revision', 'goversion']);
  info.set({ version: VERSION, revision: process.env.NODENS_REVISION ?? '', goversion: process.version }, 1);
  m.counter('coredns_panics_total', 'A metrics that counts the number of panics.');
  const prom = new Prometheus(options.address ?? DEFAULT_ADDRESS, m);
  env.onStartup(() => {
    pluginsEnabled(env);
    return prom.start();
  });
  return prom;
}

/** Generations (a config and its reloads) whose coredns_plugin_enabled series were already reset. */
const resetFor = new WeakSet<readonly PluginInstance[]>();

/** coredns_plugin_enabled{server,zone,view,name} = 1 for the DNS plugins of this block, as CoreDNS sets it at startup. */
function pluginsEnabled(env: SetupEnv): void {
  const gauge = env.metrics.gauge('coredns_plugin_enabled', 'A metric that indicates whether a plugin is enabled on per server and zone basis.', ['server', 'zone', 'view', 'name']);
  const all = env.instances();
  // A reload starts from scratch (CoreDNS resets this metric on restart); the first block to start does it.
  if (!resetFor.has(all)) {
    resetFor.add(all);
    gauge.reset();
  }
  const mine = all.filter((i) => i.handler.serve && i.zones.length === env.zones.length && i.zones.every((z, k) => z === env.zones[k]));
  for (const { port, scheme } of env.listen) {
    for (const zone of env.zones) {
      for (const i of mine) gauge.set({ server: `${scheme ?? 'dns'}://:${port}`, zone: zoneLabel(zone), view: '', name: i.name }, 1);
    }
  }
}

/** nodens's version, from the package.json above this file (in the source tree and in dist/). */
const VERSION = ((): string => {
  let dir = dirname(fileURLToPath(import.meta.url));
  for (let i = 0; i < 5; i++, dir = dirname(dir)) {
    try {
      const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { name?: string; version?: string };
      if (pkg.name === 'nodens' && pkg.version) return pkg.version;
    } catch {
      // not here: look one folder up
    }
  }
  return 'unknown';
})();
