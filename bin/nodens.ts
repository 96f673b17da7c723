#!/usr/bin/env node
// The nodens CLI: CoreDNS's flags (-conf, -dns.port, -plugins, -version, -quiet) plus --validate and --plugin.
// First import: it listens for the reload signals before anything else runs (see signals.ts).
import { onReloadSignal } from './signals.js';
import cluster from 'node:cluster';
import fs from 'node:fs';
import { asConfigError, ConfigErrors } from '../core/config/errors.js';
import { createRegistry, createServer, importPlugin, readConfig } from '../core/create.js';
import { parseLimit, type ListenerLimits } from '../core/listeners.js';
import { createLogger } from '../core/log.js';
import type { AnyPlugin } from '../core/plugin.js';
import { VERSION } from '../core/version.js';
import { reportReady, runPrimary, workerCount } from '../core/workers.js';
import { kube2skyMain } from './kube2sky.js';

const version = VERSION;

const USAGE = `Usage: nodens [flags] [FILE]
  -conf FILE        Corefile (or .yaml/.yml config) to load (default: ./Corefile); a bare FILE is the same
  -dns.port PORT    default port for server blocks that name none (default 53)
  -plugins          list the plugins in execution order and exit
  -version          print the version and exit
  -quiet            no INFO lines
  --validate        check the config as start-up does (every error, warnings) and exit, without binding sockets
  --plugin MODULE   load an external plugin (a path or package; repeatable)
  --workers N       worker processes sharing the listeners (0: one per core; default 1 process)
  --log-format F    text (default) or json
  --limit NAME=N    a listener limit, e.g. tcpFrameMs=3000 (repeatable; README.md "Limits")
  -h, --help        this help`;

interface Flags {
  conf?: string;
  port?: number;
  listPlugins: boolean;
  version: boolean;
  quiet: boolean;
  validate: boolean;
  plugins: string[];
  logFormat: 'text' | 'json';
  help: boolean;
  workers?: number;
  limits: Partial<ListenerLimits>;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = { listPlugins: false, version: false, quiet: false, validate: false, plugins: [], logFormat: 'text', help: false, limits: {} };
  for (let i = 0; i < argv.length; i++) {
    const raw = argv[i]!;
    const eq = raw.indexOf('=');
    const name = (eq > 0 ? raw.slice(0, eq) : raw).replace(/^--?/, '');
    const value = (): string => {
      const v = eq > 0 ? raw.slice(eq + 1) : argv[++i];
      if (v === undefined) throw new UsageError(`flag ${raw} needs a value`);
      return v;
    };
    switch (name) {
      case 'conf': flags.conf = value(); break;
      case 'dns.port': {
        const v = value();
        if (!/^\d+$/.test(v) || Number(v) > 65535) throw new UsageError(`-dns.port: '${v}' is not a port`);
        flags.port = Number(v);
        break;
      }
      case 'plugins': flags.listPlugins = true; break;
      case 'version': flags.version = true; break;
      case 'quiet': flags.quiet = true; break;
      case 'validate': flags.validate = true; break;
      case 'plugin': flags.plugins.push(value()); break;
      case 'log-format': {
        const v = value();
        if (v !== 'text' && v !== 'json') throw new UsageError(`--log-format: '${v}' must be text or json`);
        flags.logFormat = v;
        break;
      }
      case 'workers': {
        const v = value();
        if (!/^\d+$/.test(v)) throw new UsageError(`--workers: '${v}' is not a whole number`);
        flags.workers = Number(v);
        break;
      }
      case 'limit': {
        const v = value();
        try {
          Object.assign(flags.limits, parseLimit(v));
        } catch (err) {
          throw new UsageError(`--limit: ${(err as Error).message}`);
        }
        break;
      }
      case 'h': case 'help': flags.help = true; break;
      default:
        // `nodens Corefile`: a bare word is the config file, as `-conf Corefile`.
        if (!raw.startsWith('-') && flags.conf === undefined) {
          flags.conf = raw;
          break;
        }
        throw new UsageError(raw.startsWith('-') ? `unknown flag ${raw}` : `unexpected argument '${raw}' (the config is already ${flags.conf})`);
    }
  }
  return flags;
}

class UsageError extends Error {}

async function main(argv: string[]): Promise<number> {
  if (argv[0] === 'kube2sky') return kube2skyMain(argv.slice(1));
  const flags = parseFlags(argv);
  if (flags.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  if (flags.version) {
    process.stdout.write(`nodens-${version}\nnode ${process.version}\n`);
    return 0;
  }
  const external: AnyPlugin[] = [];
  for (const spec of flags.plugins) external.push(await importPlugin(spec));
  if (flags.listPlugins) {
    const registry = createRegistry(external);
    process.stdout.write(`Server types:\n  dns\n\nPlugins (in execution order):\n${registry.order().map((n) => `  dns.${n}`).join('\n')}\n`);
    return 0;
  }
  const file = flags.conf ?? 'Corefile';
  if (!fs.existsSync(file)) {
    process.stderr.write(`nodens: cannot read config ${file}: no such file${flags.conf ? '' : ' (give one with -conf FILE)'}\n`);
    return 1;
  }
  const logger = createLogger({ quiet: flags.quiet, format: flags.logFormat });
  const portOption = flags.port !== undefined ? { defaultPort: flags.port } : {};
  // Read the config once here: a broken one fails before any worker is forked, and YAML may ask for workers.
  // --validate reads it exactly as a start does (flags, plugins' checks, warnings); it only binds nothing.
  // A worker reads it again (the primary cannot hand it over) but leaves the warnings to the primary.
  const config = readConfig({ file, ...portOption }, createRegistry(external), cluster.isPrimary ? logger : undefined);
  if (flags.validate) {
    const warnings = config?.warnings?.length ?? 0;
    process.stdout.write(`${file}: OK${warnings > 0 ? ` (${warnings} warning${warnings === 1 ? '' : 's'})` : ''}\n`);
    return 0;
  }
  if (cluster.isPrimary) {
    const workers = flags.workers ?? config.workers;
    if (workers !== undefined && workerCount(workers) > 1) {
      logger.info(`nodens-${version} on node ${process.version}: starting ${workerCount(workers)} workers`);
      // Each worker reloads its own server.
      onReloadSignal(async (signal) => {
        logger.info(`${signal}: reloading every worker`);
        for (const w of Object.values(cluster.workers ?? {})) w?.process.kill('SIGHUP');
      }, logger);
      return runPrimary({ workers, logger });
    }
  }
  const server = await createServer({ file, plugins: external, logger, limits: flags.limits, ...portOption, config });
  logger.info(`nodens-${version} on node ${process.version} serving ${server.addresses().map((a) => `${a.address}:${a.port}`).join(', ')}${cluster.isWorker ? ` (worker ${process.pid})` : ''}`);
  reportReady();
  let stopping = false;
  const stop = (signal: string): void => {
    if (stopping) return;
    stopping = true;
    logger.info(`${signal}: shutting down`);
    server.close().then(() => process.exit(0), (err: unknown) => {
      logger.error(`shutdown: ${(err as Error).message}`);
      process.exit(1);
    });
  };
  process.on('SIGTERM', () => stop('SIGTERM'));
  process.on('SIGINT', () => stop('SIGINT'));
  onReloadSignal(async (signal) => {
    if (stopping) return;
    logger.info(`${signal}: reloading`);
    await server.reloadFromSource();
  }, logger);
  return -1; // keep running
}

main(process.argv.slice(2)).then(
  (code) => {
    if (code >= 0) process.exitCode = code;
  },
  (err: unknown) => {
    const configError = asConfigError(err);
    if (err instanceof ConfigErrors) process.stderr.write(`${err.report()}\n`);
    else if (configError) process.stderr.write(`${configError.pretty()}\n1 error${configError.pos ? ` in ${configError.pos.file}` : ''}\n`);
    else if (err instanceof UsageError) process.stderr.write(`nodens: ${err.message}\n${USAGE}\n`);
    else process.stderr.write(`nodens: ${(err as Error).message}\n`);
    process.exit(1);
  },
);
