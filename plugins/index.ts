// The built-in plugins. Execution order is core/registry.ts's EXECUTION_ORDER, not this list's.
import type { AnyPlugin } from '../core/plugin.js';
import { EXECUTION_ORDER } from '../core/registry.js';
import acl from './acl/index.js';
import any from './any/index.js';
import autopath from './autopath/index.js';
import bufsize from './bufsize/index.js';
import cache from './cache/index.js';
import chaos from './chaos/index.js';
import etcd from './etcd/index.js';
import errors from './errors/index.js';
import forward from './forward/index.js';
import hosts from './hosts/index.js';
import k8s_external from './k8s_external/index.js';
import kubernetes from './kubernetes/index.js';
import loadbalance from './loadbalance/index.js';
import local from './local/index.js';
import log from './log/index.js';
import health from './health/index.js';
import loop from './loop/index.js';
import metadata from './metadata/index.js';
import minimal from './minimal/index.js';
import nsid from './nsid/index.js';
import prometheus from './prometheus/index.js';
import ratelimit from './ratelimit/index.js';
import ready from './ready/index.js';
import reload from './reload/index.js';
import rewrite from './rewrite/index.js';
import template from './template/index.js';

const plugins: AnyPlugin[] = [
  // one line per built-in plugin, e.g.: hosts,
  acl,
  any,
  autopath,
  bufsize,
  cache,
  chaos,
  forward,
  etcd,
  errors,
  hosts,
  k8s_external,
  kubernetes,
  loadbalance,
  local,
  log,
  health,
  loop,
  metadata,
  minimal,
  nsid,
  prometheus,
  ratelimit,
  ready,
  reload,
  rewrite,
  template,
];

/** The built-ins sorted into execution order. */
export const builtinPlugins: readonly AnyPlugin[] = [...plugins].sort(
  (a, b) => EXECUTION_ORDER.indexOf(a.name as never) - EXECUTION_ORDER.indexOf(b.name as never),
);
