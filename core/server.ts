// The DNS server: listeners, the query path (read #handle top to bottom; routing tables in routes.ts), reload and shutdown.
import { compose, composeFast, errorPlugin, shapeReply, type Chain, type FastChain } from './chain.js';
import type { Config, ServerBlockConfig, ServerScheme } from './config/types.js';
import { asConfigError, ConfigError } from './config/errors.js';
import type { SecureContextOptions } from 'node:tls';
import { HttpsListener } from './https-listener.js';
import { DEFAULT_LIMITS, Listener, type ClientInfo, type ListenerLimits, type QueryHandler } from './listeners.js';
import { HANDSHAKE_TIMEOUT_MS, TlsSource } from './tls-listener.js';
import { createLogger, RateLimitedLog, type Logger } from './log.js';
import { className, decodeMessage, fqdn, makeErrorReply, Rcode, typeName, WireError, WireReply, type Message, type Reply, type WireAnswer } from './message.js';
import { withExtendedError } from './edns.js';
import { createMetrics, type Metrics } from './metrics.js';
import { DropQuery, isDnsError, SLOW_PATH, type Handler, type LocalPeer, type Peer, type PluginInstance, type ServerControl, type SetupEnv, type TlsProvider, type Transport } from './plugin.js';
import type { Registry } from './registry.js';
import { QueryRequest, type SignalOwner } from './request.js';
import { finishAnswer, finishMessage, finishReply, headerOnlyReply, type Finished } from './respond.js';
import { checkHeader, HeaderCheck, parseQuery } from './wire.js';
import path from 'node:path';
// Imported, not the global: globalThis.performance is a lazy accessor, a getter call on every read.
import { performance } from 'node:perf_hooks';
import { defaultPortOf, listenKeyLabel, listenKeysOf, RouteTable, splitListenKey } from './routes.js';
import client from 'prom-client';

export interface ServerOptions {
  readonly config: Config;
  readonly registry: Registry;
  readonly logger?: Logger;
  /** Port for keys that name none (CoreDNS's -dns.port); default 53. */
  readonly defaultPort?: number;
  /** Addresses for blocks without a `bind`; default: all ('::', or '0.0.0.0' without IPv6). */
  readonly defaultBind?: readonly string[];
  readonly metrics?: Metrics;
  /** Our EDNS buffer size (advertised in replies); default 1232. */
  readonly ednsSize?: number;
  /**
   * The largest UDP answer we send, whatever the client offers: CoreDNS fills up to the client's EDNS size,
   * so do we, up to this bound; default 4096.
   */
  readonly maxUdpSize?: number;
  /** A query's deadline (its AbortSignal fires then); default 5 s. */
  readonly deadlineMs?: number;
  readonly limits?: Partial<ListenerLimits>;
  /** Reads the config again, for the reload plugin. */
  readonly loadConfig?: () => Config | Promise<Config>;
  /** What a fatal plugin error does (loop detected); default: log and exit(1). */
  readonly onFatal?: (message: string) => void;
  /** The wire fast path (docs/fast-path.md); default on. Off, every query takes the ordinary path (for comparisons). */
  readonly fastPath?: boolean;
  /** A reload waits this long for the new config's plugins to be ready before it takes over anyway; default 5 s. */
  readonly reloadReadyTimeoutMs?: number;
}

/** One server block as running: its zones and its chain. */
interface Block {
  readonly label: string;
  readonly zones: readonly string[];
  readonly chain: Chain;
  /** The chain's fast hooks, when every handler with serve() has them (docs/fast-path.md). */
  readonly fast: FastChain | undefined;
  /** A handler of the chain logs the errors of its queries (Handler.logsErrors). */
  readonly logsErrors: boolean;
  /** Classes besides IN that the block's plugins answer (chaos: CH); other non-IN queries are REFUSED. */
  readonly classes: ReadonlySet<string>;
}

/** Everything one config built: routing tables per listener and the plugin instances. A reload makes a new one. */
interface Generation {
  readonly routes: Map<string, RouteTable<Block>>;
  readonly instances: PluginInstance[];
  readonly startup: (() => void | Promise<void>)[];
  readonly shutdown: (() => void | Promise<void>)[];
  readonly listenAddresses: Map<string, { address: string; port: number }>;
  /** The certificates of each tls:// and https:// listener key (from its block's tls plugin). */
  readonly tls: Map<string, TlsProvider>;
  inflight: number;
  drained?: () => void;
}

const ANY_ADDRESS = '::';

/** A bound listener: UDP+TCP or DNS over TLS (Listener), or DNS over HTTPS. */
type AnyListener = Listener | HttpsListener;

export class DnsServer implements SignalOwner {
  readonly logger: Logger;
  readonly metrics: Metrics;
  readonly deadlineMs: number;
  readonly #opts: ServerOptions;
  readonly #listeners = new Map<string, AnyListener>();
  /** The TLS sources of the tls:// listeners, for new certificates. */
  readonly #tlsSources = new Map<string, TlsSource>();
  readonly #controllers = new Set<AbortController>();
  readonly #errorLog = new RateLimitedLog(5000);
  readonly #warned = new Set<string>();
  readonly #ednsSize: number;
  readonly #maxUdpSize: number;
  #gen!: Generation;
  #closing = false;
  #panics;
  /** UDP queries in flight per client address (only those with one), and the bound on them. */
  readonly #udpInFlight = new Map<string, number>();
  readonly #maxUdpInFlight: number;
  readonly #udpShedTotal;
  readonly #fastPath: boolean;
  /** Queries of blocks with a fast path: answered on it, or sent down the ordinary path (nodens_fast_path_queries_total). */
  readonly #fastCounts = { fast: 0, fallback: 0 };
  /** Reloads run one at a time, in the order asked; a waiting one cuts short the readiness wait of the running one. */
  #reloads: Promise<void> = Promise.resolve();
  #reloadsWaiting = 0;

  private constructor(opts: ServerOptions) {
    this.#opts = opts;
    this.logger = opts.logger ?? createLogger();
    this.metrics = opts.metrics ?? createMetrics();
    this.deadlineMs = opts.deadlineMs ?? 5000;
    this.#ednsSize = opts.ednsSize ?? 1232;
    this.#maxUdpSize = Math.max(512, opts.maxUdpSize ?? 4096);
    this.#panics = this.metrics.counter('coredns_panics_total', 'A metrics that counts the number of panics.');
    this.#maxUdpInFlight = opts.limits?.maxUdpInFlightPerClient ?? DEFAULT_LIMITS.maxUdpInFlightPerClient;
    this.#fastPath = opts.fastPath ?? true;
    const counts = this.#fastCounts;
    if (!this.metrics.registry.getSingleMetric('nodens_fast_path_queries_total')) {
      // Read at scrape time from two numbers: a labelled counter's inc() per query would cost more than the fast path saves.
      new client.Counter({
        name: 'nodens_fast_path_queries_total', labelNames: ['path'], registers: [this.metrics.registry],
        help: 'Queries of server blocks with a fast path, by the path that answered them: fast, or fallback (the ordinary path).',
        collect() {
          this.reset();
          this.inc({ path: 'fast' }, counts.fast);
          this.inc({ path: 'fallback' }, counts.fallback);
        },
      });
    }
    this.#udpShedTotal = this.metrics.counter('nodens_udp_client_shed_total', 'UDP queries dropped because their client had maxUdpInFlightPerClient queries in flight.');
  }

  /** Sets up every plugin, binds every listener, then runs the plugins' startup hooks. */
  static async start(opts: ServerOptions): Promise<DnsServer> {
    const server = new DnsServer(opts);
    server.#gen = await server.#build(opts.config);
    try {
      await server.#bindListeners(server.#gen);
      for (const hook of server.#gen.startup) await hook();
    } catch (err) {
      await server.close();
      throw err;
    }
    return server;
  }

  /** Queries answered on the fast path, and those of fast-path blocks that took the ordinary path. */
  fastPathCounts(): { fast: number; fallback: number } {
    return { ...this.#fastCounts };
  }

  /** The bound listeners (port 0 resolved), for tests and logs. */
  addresses(): { address: string; port: number; scheme: ServerScheme }[] {
    return [...this.#listeners].map(([key, l]) => ({ address: l.address, port: l.port, scheme: splitListenKey(key).scheme }));
  }

  /**
   * Runs raw query bytes through the query path as if they arrived on the first listener (Fastify's
   * inject): for tests and measurements without sockets.
   */
  inject(wire: Buffer, client: Partial<ClientInfo> = {}): Buffer | undefined | Promise<Buffer | undefined> {
    const key = this.#gen.routes.keys().next().value as string;
    // One LocalPeer per listener, as a listener has: plugins may key things by it.
    if (this.#injectLocal?.key !== key) {
      const { address, port } = splitListenKey(key);
      this.#injectLocal = { key, local: { address, port } };
    }
    return this.#handle(key, wire, { address: '127.0.0.1', port: 53000, transport: 'udp', family: 4, ...client }, this.#injectLocal.local);
  }

  #injectLocal: { key: string; local: LocalPeer } | undefined;

  // ---- the query path ----

  #handle(listenerKey: string, wire: Buffer, client: ClientInfo, local: LocalPeer): Buffer | undefined | Promise<Buffer | undefined> {
    // A client with its share of queries in flight waits for them before it is heard again (UDP; a
    // TCP connection has its own pipeline bound). The map holds only clients with a query in flight.
    if (client.transport === 'udp' && this.#udpInFlight.size > 0 && (this.#udpInFlight.get(client.address) ?? 0) >= this.#maxUdpInFlight) {
      return this.#shed(client);
    }
    switch (checkHeader(wire)) {
      case HeaderCheck.Drop: return undefined;
      case HeaderCheck.FormErr: return headerOnlyReply(wire, Rcode.FORMERR);
      case HeaderCheck.NotImp: return headerOnlyReply(wire, Rcode.NOTIMP);
      case HeaderCheck.Ok: break;
    }
    const routes = this.#gen.routes.get(listenerKey);
    const parsed = parseQuery(wire);
    if (parsed === undefined) return this.#handleDecoded(routes, wire, client, local);
    // EDNS version > 0 is answered BADVERS by the ordinary path.
    const block = parsed.edns && parsed.edns.version > 0 ? undefined : routes?.match(parsed.lower);
    const fast = this.#fastPath && parsed.qclass === 1 ? block?.block.fast : undefined;
    // The Message is built only if a plugin reads req.query: the fast path never does. Nor does it read
    // the clock unless a hook reports the time (prometheus).
    const req = new QueryRequest({
      query: parsed, qname: parsed.lower, qtype: typeName(parsed.qtype), qclass: className(parsed.qclass),
      client, local, size: wire.length, start: fast !== undefined && fast.sent.length === 0 ? undefined : performance.now(),
    }, this);
    if (fast !== undefined) {
      req.zone = block!.zone;
      const out = this.#serveFast(fast, req, wire, parsed.questionEnd);
      if (out !== undefined) {
        this.#fastCounts.fast++;
        return out;
      }
      this.#fastCounts.fallback++;
      req.startClock();
    }
    return this.#serveChain(req, block, wire, parsed.questionEnd);
  }

  /** A query parseQuery leaves to the full decoder (several records, escapes in the name, a malformed one). */
  #handleDecoded(routes: RouteTable<Block> | undefined, wire: Buffer, client: ClientInfo, local: LocalPeer): Buffer | undefined | Promise<Buffer | undefined> {
    const start = performance.now();
    let query: Message;
    try {
      query = decodeMessage(wire);
    } catch (err) {
      if (err instanceof WireError) return headerOnlyReply(wire, Rcode.FORMERR);
      throw err;
    }
    if (query.question.length !== 1 || !isWritableName(query.question[0]!.name)) return headerOnlyReply(wire, Rcode.FORMERR);
    const q = query.question[0]!;
    const req = new QueryRequest({ query, qname: q.name.toLowerCase(), qtype: q.type, qclass: q.class, client, local, size: wire.length, start }, this);
    const block = query.edns && query.edns.version > 0 ? undefined : routes?.match(req.qname);
    return this.#serveChain(req, block, wire, undefined);
  }

  /** The ordinary path: the block's chain, its reply finished for this client (or BADVERS, REFUSED). */
  #serveChain(req: QueryRequest, block: { block: Block; zone: string } | undefined, wire: Buffer, questionEnd: number | undefined): Buffer | undefined | Promise<Buffer | undefined> {
    const query = req.query;
    const client = req.client;
    const target = { query, queryWire: wire, questionEnd, maxSize: this.#maxReplySize(req), ednsSize: this.#ednsSize };
    if (query.edns && query.edns.version > 0) return this.#send(req, makeErrorReply(query, Rcode.BADVERS), target);
    if (!block || (req.qclass !== 'IN' && !block.block.classes.has(req.qclass))) return this.#send(req, makeErrorReply(query, Rcode.REFUSED), target);
    req.zone = block.zone;
    req.errorsLogged = block.block.logsErrors;

    let result: Reply | Promise<Reply>;
    try {
      result = block.block.chain(req);
    } catch (err) {
      if (err instanceof DropQuery) return this.#drop(req, err);
      return this.#send(req, this.#errorReply(req, err), target, err as Error);
    }
    if (!(result instanceof Promise)) return this.#send(req, result, target);
    const gen = this.#gen;
    gen.inflight++;
    const udp = client.transport === 'udp';
    if (udp) this.#udpInFlight.set(client.address, (this.#udpInFlight.get(client.address) ?? 0) + 1);
    return result.then(
      (reply) => this.#send(req, reply, target),
      (err: unknown) => (err instanceof DropQuery ? this.#drop(req, err) : this.#send(req, this.#errorReply(req, err), target, err as Error)),
    ).finally(() => {
      if (udp) {
        const n = this.#udpInFlight.get(client.address)! - 1;
        if (n === 0) this.#udpInFlight.delete(client.address);
        else this.#udpInFlight.set(client.address, n);
      }
      if (--gen.inflight === 0) gen.drained?.();
    });
  }

  /**
   * The wire fast path (docs/fast-path.md): the chain's fast hooks in order, until one answers from
   * kept bytes; then the shapers before it (loadbalance), the reply made in one copy, and the `sent`
   * hooks (prometheus). Undefined sends the query down the ordinary path: a hook said SLOW_PATH, or
   * none answered.
   */
  #serveFast(fast: FastChain, req: QueryRequest, queryWire: Buffer, questionEnd: number): Buffer | undefined {
    const { links } = fast;
    let answer: WireAnswer | undefined;
    let at = 0;
    try {
      for (; at < links.length; at++) {
        const hook = links[at]!.fast;
        if (hook.answer === undefined) continue;
        const r = hook.answer(req);
        if (r === undefined) continue;
        if (r === SLOW_PATH) return undefined;
        answer = r;
        break;
      }
    } catch {
      return undefined; // the ordinary path runs it again, and reports the error as it reports every other
    }
    if (answer === undefined) return undefined;
    const producer = links[at]!.name;
    req.producer = producer;
    // Shapers reorder records: an answer with fewer than two has nothing to reorder.
    const shapers = at > fast.firstShaper && answer.layout.records.ends.length > 1 ? (reply: WireAnswer) => shapeReply(links, at, req, reply) : undefined;
    const out = finishAnswer(answer, { queryWire, questionEnd, maxSize: this.#maxReplySize(req), ednsSize: this.#ednsSize, edns: req.edns, do: req.do }, shapers);
    const rcode = out[3]! & 0x0f;
    if (fast.sent.length > 0) {
      const ms = performance.now() - req.start;
      for (const hook of fast.sent) hook.sent!(req, rcode, out.length, producer, ms);
    }
    if (req.awaitsFinish) {
      req.finish({ reply: new WireReply(out), rcode, size: out.length, truncated: (out[2]! & 0x02) !== 0, durationMs: performance.now() - req.start, plugin: producer });
    }
    return out;
  }

  /** The largest reply this query may get: the client's UDP size (bounded by ours), or 65535 over TCP. */
  #maxReplySize(req: QueryRequest): number {
    return req.client.transport === 'udp' ? Math.min(req.udpSize, this.#maxUdpSize) : 65535;
  }

  #shed(client: ClientInfo): undefined {
    this.#udpShedTotal.inc();
    this.#warnOnce('udp-per-client', `a client (${client.address}) has maxUdpInFlightPerClient (${this.#maxUdpInFlight}) UDP queries in flight: its further queries are dropped until some are answered (nodens_udp_client_shed_total counts them)`);
    return undefined;
  }

  #send(req: QueryRequest, reply: Reply, target: Parameters<typeof finishReply>[1], error?: Error): Buffer {
    let out: Finished;
    // A derived request lowered the EDNS buffer size (bufsize): the UDP answer must fit it too.
    if (req.replyUdpSize !== undefined && req.client.transport === 'udp' && req.replyUdpSize < target.maxSize) {
      target = { ...target, maxSize: req.replyUdpSize };
    }
    try {
      out = finishReply(reply, target);
    } catch (err) {
      // A record the encoder cannot write (a bad label from a plugin) is that plugin's error.
      error = err as Error;
      this.#logError(req, err);
      try {
        out = finishMessage(makeErrorReply(req.query, Rcode.SERVFAIL), target);
      } catch {
        out = { wire: headerOnlyReply(target.queryWire ?? Buffer.alloc(12), Rcode.SERVFAIL), rcode: Rcode.SERVFAIL, truncated: false };
      }
    }
    // Most queries have no one waiting for their Done (no log, errors or prometheus): build it only for those that do.
    if (req.awaitsFinish) {
      req.finish({
        reply, rcode: out.rcode, size: out.wire.length, truncated: out.truncated,
        durationMs: performance.now() - req.start, plugin: error ? errorPlugin(error) : req.producer,
        ...(error ? { error } : {}),
      });
    }
    return out.wire;
  }

  /** A plugin chose to send nothing (DropQuery): the Done record has no reply. */
  #drop(req: QueryRequest, err: DropQuery): undefined {
    if (req.awaitsFinish) {
      req.finish({
        reply: undefined, rcode: Rcode.NOERROR, size: 0, truncated: false,
        durationMs: performance.now() - req.start, plugin: errorPlugin(err),
      });
    }
    return undefined;
  }

  #errorReply(req: QueryRequest, err: unknown): Reply {
    // env.resolve() must return a reply: a drop there is a failed lookup, not a server error.
    if (err instanceof DropQuery) return makeErrorReply(req.query, Rcode.SERVFAIL);
    if (!isDnsError(err)) {
      this.#panics.inc();
      this.#logError(req, err);
      return makeErrorReply(req.query, Rcode.SERVFAIL);
    }
    if (err.rcode === Rcode.SERVFAIL) this.#logError(req, err);
    const reply = makeErrorReply(req.query, err.rcode);
    return err.extendedError ? withExtendedError(reply, err.extendedError.infoCode, err.extendedError.extraText) : reply;
  }

  #logError(req: QueryRequest, err: unknown): void {
    // One line per failure: the errors plugin says it (with its consolidation), so the server does not.
    if (req.errorsLogged) return;
    const plugin = errorPlugin(err) ?? 'core';
    const message = err instanceof Error ? err.message : String(err);
    const line = this.#errorLog.line(plugin, `plugin/${plugin}: ${fqdn(req.qname)} ${req.qtype}: ${message}`);
    if (line) this.logger.error(line);
  }

  // ---- building a config ----

  async #build(config: Config): Promise<Generation> {
    const gen: Generation = {
      routes: new Map(), instances: [], startup: [], shutdown: [], listenAddresses: new Map(), tls: new Map(), inflight: 0,
    };
    const defaultPort = this.#opts.defaultPort ?? 53;
    try {
      for (const blockConfig of config.servers) {
        const listenKeys = listenKeysOf(blockConfig, defaultPort, this.#opts.defaultBind ?? [ANY_ADDRESS]);
        const block = await this.#setupBlock(blockConfig, config, gen, listenKeys);
        for (const [key, zones] of listenKeys) {
          let table = gen.routes.get(key);
          if (!table) gen.routes.set(key, (table = new RouteTable<Block>()));
          for (const zone of zones) {
            if (table.has(zone)) throw new ConfigError(blockConfig.pos, undefined, `zone '${fqdn(zone)}' is defined twice on ${key}`, 'ERR_DUPLICATE');
            table.add(zone, block);
          }
        }
      }
    } catch (err) {
      await closeInstances(gen.instances, this.logger);
      throw err;
    }
    return gen;
  }

  async #setupBlock(blockConfig: ServerBlockConfig, config: Config, gen: Generation, listenKeys: Map<string, string[]>): Promise<Block> {
    const zones = [...new Set(blockConfig.keys.map((k) => k.zone))];
    const label = blockConfig.keys.map((k) => `${k.scheme === 'dns' ? '' : `${k.scheme}://`}${fqdn(k.zone)}:${k.port ?? defaultPortOf(k.scheme, this.#opts.defaultPort)}`).join(' ');
    const listen: (LocalPeer & { transport: Transport })[] = [];
    for (const key of listenKeys.keys()) {
      const { address, port, scheme } = splitListenKey(key);
      listen.push(scheme === 'dns' ? { address, port, transport: 'udp' } : { address, port, transport: 'tcp', scheme });
    }
    gen.listenAddresses.set(label, listen[0] ?? { address: '127.0.0.1', port: 53 });
    const links: { name: string; handler: Handler }[] = [];
    const classes = new Set<string>();
    for (const entry of blockConfig.plugins) {
      const plugin = this.#opts.registry.get(entry.name);
      if (!plugin) throw new ConfigError(entry.pos, entry.name, 'plugin is not registered', 'ERR_UNKNOWN_DIRECTIVE');
      for (const c of plugin.classes ?? []) classes.add(c);
      const env = this.#envFor(entry.name, zones, config, gen, listen, [...listenKeys.keys()][0]!);
      let handler: Handler;
      try {
        handler = await (plugin.setup as (o: unknown, e: SetupEnv) => Handler | Promise<Handler>)(entry.options, env);
      } catch (err) {
        // Also a ConfigError of another copy of nodens (recognised by its fields), placed at the directive if it has no place.
        const known = asConfigError(err);
        if (known) throw known.pos ? known : new ConfigError(entry.pos, known.plugin ?? entry.name, known.detail, known.code);
        throw new ConfigError(entry.pos, entry.name, (err as Error).message, 'ERR_BAD_VALUE');
      }
      links.push({ name: entry.name, handler });
      gen.instances.push({ name: entry.name, zones, handler });
    }
    this.#tlsOf(blockConfig, links, listenKeys, gen);
    this.logger.info(`${label} chain: ${links.filter((l) => l.handler.serve).map((l) => l.name).join(' -> ') || '(empty)'}`);
    const fast = composeFast(links);
    if (!fast) this.logger.debug(`${label}: no fast path (${links.filter((l) => l.handler.serve && !l.handler.fast).map((l) => l.name).join(', ')} without fast hooks)`);
    return { label, zones, chain: compose(links), fast, logsErrors: links.some((l) => l.handler.logsErrors === true), classes };
  }

  /** tls:// and https:// keys take their certificates from the block's tls plugin; without one they cannot serve. */
  #tlsOf(blockConfig: ServerBlockConfig, links: readonly { handler: Handler }[], listenKeys: Map<string, string[]>, gen: Generation): void {
    const provider = links.find((l) => l.handler.tls)?.handler.tls;
    for (const key of listenKeys.keys()) {
      const { scheme } = splitListenKey(key);
      if (scheme === 'dns' || gen.tls.has(key)) continue;
      if (!provider) throw new ConfigError(blockConfig.pos, 'tls', `a ${scheme}:// server block needs the tls plugin (tls CERT KEY [CA])`, 'ERR_BAD_VALUE');
      gen.tls.set(key, provider);
    }
  }

  #envFor(name: string, zones: string[], config: Config, gen: Generation, listen: (LocalPeer & { transport: Transport })[], listenKey: string): SetupEnv {
    const control: ServerControl = {
      reload: () => this.reloadFromSource(),
      fatal: (message) => (this.#opts.onFatal ?? defaultFatal(this.logger))(message),
    };
    return {
      logger: this.logger.child(name),
      zones,
      configDir: path.dirname(config.file),
      configFile: config.file,
      configFiles: config.files,
      listen,
      metrics: this.metrics,
      onStartup: (fn) => void gen.startup.push(fn),
      onShutdown: (fn) => void gen.shutdown.push(fn),
      instances: () => gen.instances,
      resolve: (query, transport = 'udp') => this.resolve(listenKey, query, transport),
      control,
    };
  }

  /** Runs a query through routing and the chain of `listenKey`'s blocks, without sockets. */
  async resolve(listenKey: string, query: Message, transport: Transport = 'udp'): Promise<Reply> {
    const q = query.question[0];
    if (!q) return makeErrorReply(query, Rcode.FORMERR);
    const { address, port } = splitListenKey(listenKey);
    const req = new QueryRequest({
      query, qname: q.name.toLowerCase(), qtype: q.type, qclass: q.class,
      client: { address: '127.0.0.1', port: 0, transport, family: 4 }, local: { address, port },
      size: 0, start: performance.now(),
    }, this);
    const block = this.#gen.routes.get(listenKey)?.match(req.qname);
    if (!block) return makeErrorReply(query, Rcode.REFUSED);
    req.zone = block.zone;
    try {
      return await block.block.chain(req);
    } catch (err) {
      return this.#errorReply(req, err);
    }
  }

  readonly #warnOnce = (key: string, message: string): void => {
    if (this.#warned.has(key)) return;
    this.#warned.add(key);
    this.logger.warn(message);
  };

  async #bindListeners(gen: Generation): Promise<void> {
    // Certificates are read first: unreadable files fail the start or the reload, and the old ones keep serving.
    const contexts = new Map<string, SecureContextOptions>();
    for (const [key, provider] of gen.tls) contexts.set(key, provider.secureContext());
    for (const key of gen.routes.keys()) {
      const existing = this.#listeners.get(key);
      if (existing) {
        const context = contexts.get(key);
        if (context) this.#setSecureContext(key, context);
        continue;
      }
      const { address, port } = splitListenKey(key);
      const listener = this.#makeListener(key, address, contexts.get(key));
      try {
        await listener.listen(port);
      } catch (err) {
        const code = (err as NodeJS.ErrnoException).code;
        if (address === ANY_ADDRESS && (code === 'EAFNOSUPPORT' || code === 'EADDRNOTAVAIL')) {
          // No IPv6 on this host: fall back to all IPv4 addresses.
          const v4 = this.#makeListener(key, '0.0.0.0', contexts.get(key));
          await v4.listen(port);
          this.#listeners.set(key, v4);
          continue;
        }
        const why = code === 'EADDRINUSE' ? 'address already in use' : code === 'EACCES' ? 'permission denied (ports below 1024 need root or CAP_NET_BIND_SERVICE)' : (err as Error).message;
        throw new Error(`listen on ${address}:${port}: ${why}`, { cause: err });
      }
      this.#listeners.set(key, listener);
      // Port 0 resolves now: the blocks' `listen` lists should show the real port.
      for (const listen of gen.listenAddresses.values()) if (listen.port === 0) listen.port = listener.port;
    }
    for (const [key, provider] of gen.tls) provider.watch(() => this.#reloadCertificates(key, provider));
  }

  #makeListener(key: string, address: string, context: SecureContextOptions | undefined): AnyListener {
    const handler: QueryHandler = (wire, client, local) => this.#handle(key, wire, client, local);
    const limits = { ...DEFAULT_LIMITS, ...this.#opts.limits };
    const { scheme } = splitListenKey(key);
    if (scheme === 'https') return new HttpsListener(address, handler, context!, limits);
    if (scheme === 'tls') {
      // A handshake gets no longer than an idle connection would.
      const source = new TlsSource(context!, Math.min(HANDSHAKE_TIMEOUT_MS, limits.tcpIdleMs), 2 * limits.maxTcpConnections);
      this.#tlsSources.set(key, source);
      return new Listener(address, handler, limits, this.#warnOnce, source);
    }
    return new Listener(address, handler, limits, this.#warnOnce);
  }

  #setSecureContext(key: string, context: SecureContextOptions): void {
    const listener = this.#listeners.get(key);
    if (listener instanceof HttpsListener) listener.setSecureContext(context);
    else this.#tlsSources.get(key)?.setSecureContext(context);
  }

  /** The certificate files changed: new connections get the new ones; a bad file keeps the old ones. */
  #reloadCertificates(key: string, provider: TlsProvider): void {
    if (this.#gen.tls.get(key) !== provider) return;
    try {
      this.#setSecureContext(key, provider.secureContext());
      this.logger.info(`plugin/tls: certificates of ${listenKeyLabel(key)} reloaded`);
    } catch (err) {
      this.logger.error(`plugin/tls: certificates of ${listenKeyLabel(key)} not reloaded (the old ones stay): ${(err as Error).message}`);
    }
  }

  // ---- reload and shutdown ----

  /** Reads the config again (ServerOptions.loadConfig) and swaps it in. */
  async reloadFromSource(): Promise<void> {
    if (!this.#opts.loadConfig) throw new Error('this server was not given a way to read its config again');
    await this.reload(await this.#opts.loadConfig());
  }

  /**
   * Swaps in a new config without dropping queries: listeners whose address is unchanged are kept,
   * new ones bound, removed ones closed; the old plugins close once their in-flight queries finish.
   * If the new config fails to set up, the old one keeps serving and the error is thrown.
   */
  async reload(config: Config): Promise<void> {
    this.#reloadsWaiting++;
    const run = this.#reloads.then(() => {
      this.#reloadsWaiting--;
      return this.#reloadNow(config);
    });
    this.#reloads = run.catch(() => {});
    return run;
  }

  async #reloadNow(config: Config): Promise<void> {
    const next = await this.#build(config);
    try {
      await this.#bindListeners(next);
    } catch (err) {
      await closeInstances(next.instances, this.logger);
      throw err;
    }
    // The old config answers until the new one's plugins are ready (a kubernetes index synced), so a reload
    // never serves less than before; past the bound the new one takes over, kubernetes keeping the old data.
    await this.#whenReady(next);
    const old = this.#gen;
    this.#gen = next;
    for (const [key, listener] of this.#listeners) {
      if (!next.routes.has(key)) {
        this.#listeners.delete(key);
        this.#tlsSources.delete(key);
        listener.stopAccepting();
        void listener.idle(this.deadlineMs).then(() => listener.close());
      }
    }
    for (const hook of next.startup) await hook();
    void this.#drain(old).then(() => closeInstances(old.instances, this.logger));
    this.logger.info(`reloaded ${config.file}`);
  }

  async #whenReady(gen: Generation): Promise<void> {
    const unready = (): string[] => gen.instances.filter(({ handler }) => {
      try {
        return handler.ready !== undefined && !handler.ready();
      } catch {
        return true;
      }
    }).map((i) => i.name);
    const end = performance.now() + (this.#opts.reloadReadyTimeoutMs ?? 5000);
    let names = unready();
    // Handlers have no readiness event: poll, as the ready plugin does.
    while (names.length > 0 && performance.now() < end && this.#reloadsWaiting === 0 && !this.#closing) {
      await new Promise((resolve) => setTimeout(resolve, 50));
      names = unready();
    }
    if (names.length > 0) this.logger.warn(`reload: not ready yet: ${[...new Set(names)].join(', ')}; the new config takes over anyway`);
  }

  #drain(gen: Generation): Promise<void> {
    if (gen.inflight === 0) return Promise.resolve();
    return new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, this.deadlineMs);
      gen.drained = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Graceful stop: shutdown hooks (lameduck), stop accepting, finish in-flight queries, close everything. */
  async close(): Promise<void> {
    if (this.#closing) return;
    this.#closing = true;
    const gen = this.#gen;
    if (gen) await Promise.allSettled(gen.shutdown.map((fn) => fn()));
    for (const l of this.#listeners.values()) l.stopAccepting();
    await Promise.all([...this.#listeners.values()].map((l) => l.idle(this.deadlineMs)));
    for (const c of this.#controllers) c.abort(new Error('server shutting down'));
    await Promise.all([...this.#listeners.values()].map((l) => l.close()));
    this.#listeners.clear();
    if (gen) await closeInstances(gen.instances, this.logger);
  }

  // SignalOwner: requests register the controllers they make so shutdown can abort them.
  track(c: AbortController): void {
    this.#controllers.add(c);
  }
  untrack(c: AbortController): void {
    this.#controllers.delete(c);
  }
}

/** Can this name be written back (no empty or over-long labels)? Hostile packets decode to names that cannot. */
function isWritableName(name: string): boolean {
  if (name === '') return true;
  for (const label of name.split('.')) {
    const len = Buffer.byteLength(label);
    if (len === 0 || len > 63) return false;
  }
  return true;
}

async function closeInstances(instances: readonly PluginInstance[], logger: Logger): Promise<void> {
  for (const { name, handler } of [...instances].reverse()) {
    try {
      await handler.close?.();
    } catch (err) {
      logger.error(`plugin/${name}: close: ${(err as Error).message}`);
    }
  }
}

function defaultFatal(logger: Logger): (message: string) => void {
  return (message) => {
    logger.raw(`[FATAL] ${message}`);
    process.exit(1);
  };
}
