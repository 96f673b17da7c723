// The built-in plugins. Execution order is core/registry.ts's EXECUTION_ORDER, not this list's.
import type { AnyPlugin } from '../core/plugin.js';
import { EXECUTION_ORDER } from '../core/registry.js';
import cache from './cache/index.js';
import etcd from './etcd/index.js';
import errors from './errors/index.js';
import forward from './forward/index.js';
import hosts from './hosts/index.js';
import kubernetes from './kubernetes/index.js';
import loadbalance from './loadbalance/index.js';
import log from './log/index.js';
import health from './health/index.js';
import loop from './loop/index.js';
import prometheus from './prometheus/index.js';
import ready from './ready/index.js';
import reload from './reload/index.js';
import tls from './tls/index.js';

const plugins: AnyPlugin[] = [
  // one line per built-in plugin, e.g.: hosts,
  cache,
  forward,
  etcd,
  errors,
  hosts,
  kubernetes,
  loadbalance,
  log,
  health,
  loop,
  prometheus,
  ready,
  reload,
  tls,
];

/** The built-ins sorted into execution order. */
export const builtinPlugins: readonly AnyPlugin[] = [...plugins].sort(
  (a, b) => EXECUTION_ORDER.indexOf(a.name as never) - EXECUTION_ORDER.indexOf(b.name as never),
);
