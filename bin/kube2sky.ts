// `nodens kube2sky`: runs the kube2sky sync (Services and EndpointSlices → SkyDNS records in etcd)
// until SIGTERM or SIGINT, then stops it and resolves with the exit code.
import fs from 'node:fs';
import { parseDuration } from '../core/config/args.js';
import { createLogger, type Logger } from '../core/log.js';
import { VERSION } from '../core/version.js';
import type { Kube2Sky, Kube2SkyOptions } from '../plugins/etcd/kube2sky/index.js';

const USAGE = `Usage: nodens kube2sky [flags]
  -zone ZONE         the cluster zone the records are written under (default cluster.local)
  -path PATH         the etcd key prefix, the etcd plugin's path (default /skydns)
  -etcd URL          an etcd endpoint (repeatable; default http://localhost:2379)
  -kubeconfig FILE   reach the API server through this kubeconfig
  -context NAME      the kubeconfig context (default: its current context)
  -endpoint URL      reach the API server at this URL (no auth; default: in-cluster config)
  -ttl SECONDS       TTL of the records (default 30)
  -resync DURATION   compare everything with etcd this often, 0 for only at start (default 5m)
  -quiet             no INFO lines
  --log-format F     text (default) or json
  -h, --help         this help`;

class UsageError extends Error {}

interface Flags {
  zone: string;
  path: string;
  etcd: string[];
  kubeconfig?: string;
  context?: string;
  endpoint?: string;
  ttl: number;
  resyncMs?: number;
  quiet: boolean;
  logFormat: 'text' | 'json';
  help: boolean;
}

function httpUrl(flag: string, v: string): string {
  let url: URL;
  try {
    url = new URL(v);
  } catch {
    throw new UsageError(`${flag}: '${v}' is not a URL (like http://127.0.0.1:2379)`);
  }
  if (url.protocol !== 'http:' && url.protocol !== 'https:') throw new UsageError(`${flag}: '${v}' must be an http:// or https:// URL`);
  return v;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { zone: 'cluster.local', path: '/skydns', etcd: [], ttl: 30, quiet: false, logFormat: 'text', help: false };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    if (!raw.startsWith('-')) throw new UsageError(`unexpected argument '${raw}'`);
    const eq = raw.indexOf('=');
    const name = (eq > 0 ? raw.slice(0, eq) : raw).replace(/^--?/, '');
    const value = (): string => {
      const v = eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined || v === '') throw new UsageError(`flag ${raw} needs a value`);
      return v;
    };
    switch (name) {
      case 'zone': flags.zone = value(); break;
      case 'path': {
        const v = value();
        if (!v.startsWith('/')) throw new UsageError(`-path: '${v}' must start with /`);
        flags.path = v;
        break;
      }
      case 'etcd': flags.etcd.push(httpUrl('-etcd', value())); break;
      case 'kubeconfig': flags.kubeconfig = value(); break;
      case 'context': flags.context = value(); break;
      case 'endpoint': flags.endpoint = httpUrl('-endpoint', value()); break;
      case 'ttl': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 2 ** 31 - 1) throw new UsageError(`-ttl: '${v}' is not a number of seconds`);
        flags.ttl = Number(v);
        break;
      }
      case 'resync': {
        const v = value();
        try {
          flags.resyncMs = parseDuration(v);
        } catch (err) {
          throw new UsageError(`-resync: ${(err as Error).message}`);
        }
        break;
      }
      case 'quiet': flags.quiet = true; break;
      case 'log-format': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new UsageError(`--log-format: '${v}' must be text or json`);
        flags.logFormat = v;
        break;
      }
      case 'h': case 'help': flags.help = true; break;
      default: throw new UsageError(`unknown flag ${raw}`);
    }
  }
  if (flags.kubeconfig !== undefined && flags.endpoint !== undefined) throw new UsageError('-kubeconfig and -endpoint exclude each other: give one');
  if (flags.context !== undefined && flags.kubeconfig === undefined) throw new UsageError('-context needs -kubeconfig');
  if (flags.kubeconfig !== undefined && !fs.existsSync(flags.kubeconfig)) throw new UsageError(`-kubeconfig: cannot read ${flags.kubeconfig}: no such file`);
  return flags;
}

function options(flags: Flags, logger: Logger): Kube2SkyOptions {
  return {
    zone: flags.zone,
    path: flags.path,
    ttl: flags.ttl,
    ...(flags.etcd.length > 0 ? { etcd: { endpoints: flags.etcd } } : {}),
    kubernetes: {
      ...(flags.endpoint !== undefined ? { endpoint: flags.endpoint } : {}),
      ...(flags.kubeconfig !== undefined ? { kubeconfig: flags.kubeconfig } : {}),
      ...(flags.context !== undefined ? { context: flags.context } : {}),
    },
    ...(flags.resyncMs !== undefined ? { resyncMs: flags.resyncMs } : {}),
    logger,
  };
}

/** Resolves when a first SIGTERM or SIGINT arrives, with its name. */
function nextSignal(): Promise<string> {
  return new Promise((resolve) => {
    const on = (signal: string) => {
      process.off('SIGTERM', onTerm);
      process.off('SIGINT', onInt);
      resolve(signal);
    };
    const onTerm = () => on('SIGTERM');
    const onInt = () => on('SIGINT');
    process.on('SIGTERM', onTerm);
    process.on('SIGINT', onInt);
  });
}

/** The subcommand: parses `argv` (the arguments after `kube2sky`), runs until a signal, returns the exit code. */
export async function kube2skyMain(argv: string[]): Promise<number> {
  let flags: Flags;
  try {
    flags = parseFlags(argv);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`nodens kube2sky: ${err.message}\n${USAGE}\n`);
    return 1;
  }
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const logger = createLogger({ quiet: flags.quiet, format: flags.logFormat });
  // Listen before starting, so a signal during start-up still stops cleanly.
  const signal = nextSignal();
  // The sync's own handles may all be idle or unref'd (etcd down, a backoff timer): stay up until a signal.
  const keepAlive = setInterval(() => {}, 2 ** 30);
  let k2s: Kube2Sky;
  try {
    // Loaded here so that `nodens` serving DNS does not load the sync (and the API feed) it does not run.
    const { runKube2Sky } = await import('../plugins/etcd/kube2sky/index.js');
    k2s = runKube2Sky(options(flags, logger));
  } catch (err) {
    clearInterval(keepAlive);
    process.stderr.write(`nodens kube2sky: ${(err as Error).message}\n`);
    return 1;
  }
  const api = flags.endpoint ?? (flags.kubeconfig ? `kubeconfig ${flags.kubeconfig}` : 'in-cluster config');
  logger.child('kube2sky').info(`nodens-${VERSION} on node ${process.version}: Services from ${api} → etcd ${(flags.etcd.length > 0 ? flags.etcd : ['http://localhost:2379']).join(',')} under ${flags.path} for ${flags.zone}`);
  const name = await signal;
  clearInterval(keepAlive);
  logger.child('kube2sky').info(`${name}: shutting down`);
  // A second signal while stopping (a stuck etcd call) gives up at once.
  const force = () => process.exit(1);
  process.once('SIGTERM', force);
  process.once('SIGINT', force);
  try {
    await k2s.stop();
  } catch (err) {
    logger.error(`kube2sky: stop: ${(err as Error).message}`);
    return 1;
  }
  // Client libraries may keep a handle open after close(); exit anyway, once nothing of ours is left.
  setTimeout(() => process.exit(process.exitCode ?? 0), 2000).unref();
  return 0;
}
