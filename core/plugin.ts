// The plugin contract: what a plugin author writes (definePlugin) and what a handler sees (Request, Next).
import type { Directive, ParseContext, Position } from './config/types.js';
import type { Logger } from './log.js';
import type { EdnsOption, Message, Reply, WireAnswer } from './message.js';
import type { Metrics } from './metrics.js';
import type { SecureContextOptions } from 'node:tls';

export type Transport = 'udp' | 'tcp';

export interface Peer {
  readonly address: string;
  readonly port: number;
}

/** The listener's end: its address, and how it is served when not plain DNS (`tls://`, `https://`). */
export interface LocalPeer extends Peer {
  readonly scheme?: 'tls' | 'https';
}

/** What one query's handlers see. Read-only: a handler never changes the query. */
export interface Request {
  /** The query as decoded. */
  readonly query: Message;
  /** The question's name, lower-cased, without the trailing dot ('' is the root). */
  readonly qname: string;
  /** The question's type name: 'A', 'AAAA', 'SRV', 'TYPE65'... */
  readonly qtype: string;
  readonly qclass: string;
  /** The EDNS DO bit. */
  readonly do: boolean;
  readonly cd: boolean;
  /** The client's UDP buffer size: its EDNS size, or 512 without EDNS. */
  readonly udpSize: number;
  /** Did the query carry an OPT record? */
  readonly edns: boolean;
  readonly client: Peer & { readonly transport: Transport; readonly family: 4 | 6 };
  /** The listener's address; `scheme` says DNS over TLS or HTTPS (client.transport is then 'tcp', as CoreDNS's proto). */
  readonly local: LocalPeer;
  /** The server block zone this query was routed by. */
  readonly zone: string;
  /** The listener, as CoreDNS labels it in metrics: 'dns://:53'. */
  readonly server: string;
  /** The query's size in bytes on the wire. */
  readonly size: number;
  /**
   * performance.now() when the query arrived. On the fast path of a block whose hooks do not report
   * the time (no `sent` hook), the clock is read only when this is first asked for: a query answered
   * there never pays for the reading.
   */
  readonly start: number;
  /** Aborted when the query's deadline passes or the server stops. */
  readonly signal: AbortSignal;
  /**
   * The EDNS options of the query (empty without EDNS or options): ECS, cookies, NSID requests. Their
   * `data` may be a view of the query's bytes: copy it to keep it past the query.
   */
  readonly ednsOptions: readonly EdnsOption[];
  /** The request as the client sent it: itself, unless this one was derived by `next(changes)`. */
  readonly original: Request;
  /** Labels plugins publish for this query (CoreDNS's metadata); shared by the original and derived requests. */
  readonly metadata: Metadata;
  /**
   * Called once the reply has been sent (or dropped): for log, prometheus, errors. A listener
   * registered on a derived request fires with the same Done as the original's.
   */
  onDone(listener: (done: Done) => void): void;
}

/**
 * CoreDNS's plugin/metadata: values published under `plugin/name` labels (`kubernetes/client-namespace`).
 * A function value is computed on the first get() and remembered, so publishing costs nothing until read.
 */
export interface Metadata {
  set(label: string, value: string | (() => string | undefined)): void;
  get(label: string): string | undefined;
  labels(): readonly string[];
}

/**
 * What `next(changes)` changes for the rest of the chain: the question and EDNS. Everything else
 * (client, transport, listener, zone, deadline, signal, metadata) is kept, and nothing is routed again.
 * The plugin that derives a request maps the reply back (answer names, if it wants); the server
 * always answers with the client's own ID, flags and question.
 */
export interface RequestChanges {
  /** A new question name (any case, with or without the trailing dot). */
  readonly name?: string;
  /** A type name: 'A', 'SRV', 'TYPE65'. */
  readonly type?: string;
  readonly class?: string;
  /** Replaces the options the rest of the chain sees (and that forward sends upstream). */
  readonly ednsOptions?: readonly EdnsOption[];
  /** A new EDNS buffer size (bufsize); it also bounds the UDP answer sent to the client. */
  readonly udpSize?: number;
}

export interface Done {
  /** The reply as sent; undefined when the query was dropped. */
  readonly reply: Reply | undefined;
  readonly rcode: number;
  /** Bytes sent. */
  readonly size: number;
  readonly truncated: boolean;
  readonly durationMs: number;
  /** The plugin that produced the reply, or that threw. */
  readonly plugin: string | undefined;
  readonly error?: Error;
}

/** Runs the rest of the chain; with `changes`, on a request derived from this one. */
export type Next = (changes?: RequestChanges) => Reply | Promise<Reply>;

/**
 * What a fast-path hook returns to have the query served by the ordinary path instead (docs/fast-path.md).
 * Symbol.for: a plugin built against another copy of nodens returns the same symbol.
 */
export const SLOW_PATH: unique symbol = Symbol.for('nodens.slowPath');

/**
 * A handler's part in the wire fast path (docs/fast-path.md). A server block serves a plain query (one
 * question, class IN, EDNS 0, no option the block needs) on the fast path when every handler of its
 * chain that has serve() also has `fast`: the hooks run in chain order, with no Message, no next() and
 * no Done. Each hook sees the same Request as serve() would (its `query` is built only if read).
 */
export interface FastPath {
  /**
   * Answer from bytes kept for it (a WireAnswer: the plugins after this one are not asked); undefined
   * when serve() would only call next() for this query (the next plugin's hook is asked); SLOW_PATH
   * when this query needs serve() (a cache miss, a name only an upstream knows). Only an answer may
   * change anything (count, touch an entry): after undefined or SLOW_PATH, serve() runs as if the
   * hook had not.
   */
  answer?(req: Request): WireAnswer | undefined | typeof SLOW_PATH;
  /**
   * Reorders the records of a later plugin's answer before it is cut to the client's size
   * (loadbalance). `reply` is this query's own copy (ID, flags and question already the client's):
   * permute its bytes in place and return it (or a WireAnswer over the same bytes with new record
   * ends), or return new bytes. Not called for an answer of fewer than two records.
   */
  shape?(req: Request, reply: WireAnswer): WireAnswer;
  /** The fast answer was sent (prometheus counts): its rcode, size, the plugin that answered, and how long it took. */
  sent?(req: Request, rcode: number, size: number, plugin: string, durationMs: number): void;
}

export interface Handler {
  /** Answers or `return next()`. Omitted by plugins that add no DNS step (health, ready, reload). */
  serve?(req: Request, next: Next): Reply | Promise<Reply>;
  /** This handler's part in the wire fast path; without it, a block whose chain holds this handler never takes it. */
  readonly fast?: FastPath;
  /** For the ready plugin: false until the plugin can answer (kubernetes: informers synced). */
  ready?(): boolean;
  /** This handler logs the errors of the queries it sees (the errors plugin): the server then logs none of its own. */
  readonly logsErrors?: boolean;
  /**
   * Publishes this plugin's metadata labels for a query (CoreDNS's metadata.Provider). The metadata
   * plugin calls it for every query in its zones before the chain runs; set lazily computed values.
   */
  metadata?(req: Request): void;
  /** Release sockets, timers and watches; called on shutdown and when a reload replaces the config. */
  close?(): Promise<void> | void;
  /** For the tls plugin: the certificates of the block's tls:// and https:// listeners. */
  readonly tls?: TlsProvider;
}

/** Certificates for tls:// and https:// listeners. */
export interface TlsProvider {
  /** Reads the certificate files now; throws if they cannot be read. */
  secureContext(): SecureContextOptions;
  /** Calls back when the files change (until the handler closes). */
  watch(onChange: () => void): void;
}

/** Why a query failed, for the client (RFC 8914): `{ infoCode: EdeCode.NoReachableAuthority }`. */
export interface ExtendedError {
  readonly infoCode: number;
  readonly extraText?: string;
}

/**
 * A DNS error with a chosen rcode (REFUSED, NOTIMP...). NXDOMAIN and NODATA are answers: return them.
 * With `extendedError`, the error reply carries that Extended DNS Error (to clients that sent EDNS).
 */
export class DnsError extends Error {
  readonly rcode: number;
  readonly extendedError: ExtendedError | undefined;
  /** Set by the chain: the plugin that threw. */
  plugin?: string;
  constructor(rcode: number, message: string, options?: { cause?: unknown; extendedError?: ExtendedError }) {
    super(message, options);
    this.name = 'DnsError';
    this.rcode = rcode;
    this.extendedError = options?.extendedError;
  }
}

/**
 * Is `err` a DnsError, from this copy of nodens or another (an external plugin built against its own
 * copy throws that copy's class, which `instanceof` does not recognise)?
 */
export function isDnsError(err: unknown): err is DnsError {
  if (err instanceof DnsError) return true;
  return err instanceof Error && err.name === 'DnsError' && typeof (err as { rcode?: unknown }).rcode === 'number';
}

/**
 * Thrown by a handler that wants no reply sent at all (acl's `drop`): the server sends nothing, the
 * client times out. Not an error: it is not logged or counted as a panic; `Done.reply` is undefined.
 */
export class DropQuery extends Error {
  constructor(reason: string) {
    super(reason);
    this.name = 'DropQuery';
  }
}

/** A plugin instance in a running server, for plugins that look at the others (ready). */
export interface PluginInstance {
  readonly name: string;
  readonly zones: readonly string[];
  readonly handler: Handler;
}

/** What setup() gets besides its options. */
export interface SetupEnv {
  /** Logs "plugin/NAME: ...". */
  readonly logger: Logger;
  /** The server block's zones, normalised. */
  readonly zones: readonly string[];
  /** The folder of the config file, for relative paths. */
  readonly configDir: string;
  /** The config file (for reload). */
  readonly configFile: string;
  /** Every file the config was read from (the file and its imports), for reload's checksum. */
  readonly configFiles: readonly string[];
  /** The block's listen addresses ('127.0.0.1', port), known at setup. */
  readonly listen: readonly (LocalPeer & { readonly transport: Transport })[];
  /** Prometheus metrics (shared by the whole process; a metric is created once by name). */
  readonly metrics: Metrics;
  /** Runs after every listener is bound. */
  onStartup(fn: () => void | Promise<void>): void;
  /** Runs when the server shuts down, before listeners close (health's lameduck waits here). */
  onShutdown(fn: () => void | Promise<void>): void;
  /** Every plugin instance of the server, once all are set up (for ready). */
  instances(): readonly PluginInstance[];
  /** Runs a query through the server from the top (zone routing included): ExternalName targets, loop probes. */
  resolve(query: Message, transport?: Transport): Promise<Reply>;
  /** The running server's control surface, for reload. */
  readonly control: ServerControl;
}

export interface ServerControl {
  /** Loads the config file again and swaps it in; throws (and keeps the old one) if it is invalid. */
  reload(): Promise<void>;
  /** Stops the process the way a fatal plugin error should (loop detected). */
  fatal(message: string): void;
}

/** JSON Schema of a plugin's options (validated with ajv). */
export type JsonSchema = Record<string, unknown>;

/** What check() is told: the block's zones, the config folder, and where a path into the options stands. */
export interface CheckContext extends ParseContext {
  /** The position of `path` in the config (`['to', 0]`): the YAML node, or the Corefile token or directive. */
  at(path: readonly (string | number)[]): Position;
}

export interface PluginDefinition<Options = unknown> {
  /** The Corefile directive. */
  readonly name: string;
  /** JSON Schema of the options; YAML configs are validated by it directly, Corefile ones after parse(). */
  readonly schema: JsonSchema;
  /** Corefile directive → options; throws ConfigError at a token's position. */
  parse(directive: Directive, ctx: ParseContext): Options;
  /**
   * Options → canonical options, for Corefile and YAML alike (YAML options never pass through parse()):
   * normalise what parse() would have (zones lower-cased without the dot), and check what the schema
   * cannot (an upstream address, a regex, two options that exclude each other). Runs after the schema,
   * at load, under --validate and on reload, so it must be pure: no sockets, timers, watches or remote
   * calls. Throw a ConfigError at `ctx.at(path)`. Returns the options setup() gets (void: unchanged).
   */
  check?(options: Options, ctx: CheckContext): Options | void;
  /**
   * Zones for which this instance answers every query itself, never calling next() (hosts without
   * fallthrough). The loader warns about a plugin later in the chain that can then never answer.
   */
  answers?(options: Options, ctx: ParseContext): readonly string[];
  /** Options → handler. */
  setup(options: Options, env: SetupEnv): Handler | Promise<Handler>;
  /**
   * Query classes besides IN this plugin answers (chaos: ['CH'], CoreDNS's EnableChaos). A server block
   * passes a query of another class to its chain only when one of its plugins lists that class; else REFUSED.
   */
  readonly classes?: readonly string[];
  /** At most once per server block (CoreDNS's ErrOnce). Default true. */
  readonly once?: boolean;
  /** External plugins: run just before (or after) this built-in. */
  readonly before?: string;
  readonly after?: string;
}

/** Declares a plugin, inferring its options type. */
export function definePlugin<Options>(def: PluginDefinition<Options>): PluginDefinition<Options> {
  return def;
}

/** A definition with its options type erased, as the registry keeps them. */
export type AnyPlugin = PluginDefinition<never> | PluginDefinition<unknown>;
