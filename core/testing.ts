// The test kit for plugin authors ('nodens/testing'): records from zone-file text, requests without
// sockets, stub next(), a SetupEnv fake, Corefile snippets parsed into options, real servers and dig.
import { execFile } from 'node:child_process';
import dgram from 'node:dgram';
import net from 'node:net';
import { ConfigError } from './config/errors.js';
import { createServer } from './create.js';
import type { ListenerLimits } from './listeners.js';
import { createLogger } from './log.js';
import { decodeMessage, makeQuery, makeReply, trimDot, type Edns, type EdnsOption, type Message, type Reply, type ResourceRecord } from './message.js';
import { RequestMetadata } from './metadata.js';
import type { AnyPlugin, Done, Next, Request, Transport } from './plugin.js';
import { deriveRequest } from './request.js';
import type { DnsServer } from './server.js';
import { encodeMessage } from './wire.js';

export { directiveOf, freePort, parseDirective, testEnv, type ParseDirectiveOptions, type TestEnv, type TestEnvOptions } from './test-env.js';

/**
 * A record from zone-file text: rr`db.default.svc.cluster.local. 5 IN A 10.0.0.1`.
 * Supports A AAAA CNAME NS PTR DNAME SRV MX TXT SOA HINFO; the TTL and class may be omitted (3600, IN).
 */
export function rr(strings: TemplateStringsArray | string, ...values: unknown[]): ResourceRecord {
  const text = typeof strings === 'string' ? strings : String.raw({ raw: strings }, ...values);
  const fields = text.trim().match(/"[^"]*"|\S+/g) ?? [];
  const name = trimDot(fields.shift() ?? '');
  let ttl = 3600;
  let cls = 'IN';
  if (/^\d+$/.test(fields[0] ?? '')) ttl = Number(fields.shift());
  if (['IN', 'CH', 'HS'].includes((fields[0] ?? '').toUpperCase())) cls = fields.shift()!.toUpperCase();
  const type = (fields.shift() ?? '').toUpperCase();
  const f = fields;
  const h = { name, ttl, class: cls };
  switch (type) {
    case 'A': case 'AAAA': return { ...h, type, data: f[0]! };
    case 'CNAME': case 'NS': case 'PTR': case 'DNAME': return { ...h, type, data: trimDot(f[0]!) };
    case 'SRV': return { ...h, type, data: { priority: Number(f[0]), weight: Number(f[1]), port: Number(f[2]), target: trimDot(f[3]!) } };
    case 'MX': return { ...h, type, data: { preference: Number(f[0]), exchange: trimDot(f[1]!) } };
    case 'TXT': return { ...h, type, data: f.map((s) => s.replace(/^"|"$/g, '')) };
    case 'HINFO': return { ...h, type, data: { cpu: f[0]!.replace(/^"|"$/g, ''), os: f[1]!.replace(/^"|"$/g, '') } };
    case 'SOA': return {
      ...h, type,
      data: { mname: trimDot(f[0]!), rname: trimDot(f[1]!), serial: Number(f[2]), refresh: Number(f[3]), retry: Number(f[4]), expire: Number(f[5]), minimum: Number(f[6]) },
    };
    default: throw new Error(`rr: unsupported type '${type}' in: ${text}`);
  }
}

/** The zone-file text of a record (for readable assertions). */
export function rrText(r: ResourceRecord): string {
  const name = `${r.name}.`;
  const head = `${name} ${r.ttl} ${r.class ?? 'IN'}`;
  switch (r.type) {
    case 'A': case 'AAAA': return `${head} ${r.type} ${r.data}`;
    case 'CNAME': case 'NS': case 'PTR': case 'DNAME': return `${head} ${r.type} ${r.data}.`;
    case 'SRV': return `${head} SRV ${r.data.priority} ${r.data.weight} ${r.data.port} ${r.data.target}.`;
    case 'MX': return `${head} MX ${r.data.preference} ${r.data.exchange}.`;
    case 'TXT': return `${head} TXT ${r.data.map((s) => `"${s}"`).join(' ')}`;
    case 'HINFO': return `${head} HINFO "${r.data.cpu}" "${r.data.os}"`;
    case 'SOA': {
      const d = r.data;
      return `${head} SOA ${d.mname}. ${d.rname}. ${d.serial} ${d.refresh} ${d.retry} ${d.expire} ${d.minimum}`;
    }
    case 'OPAQUE': return `${head} ${r.rrtype} \\# ${r.data.length}`;
  }
}

export interface TestRequestOptions {
  transport?: Transport;
  clientAddress?: string;
  clientPort?: number;
  zone?: string;
  do?: boolean;
  cd?: boolean;
  edns?: Edns;
  /** EDNS options the query carries (an OPT is added if `edns` is not given). */
  ednsOptions?: readonly EdnsOption[];
  class?: string;
  id?: number;
  signal?: AbortSignal;
}

/** A Request for calling a handler directly, without a server. `finish` fires the onDone listeners by hand. */
export function makeRequest(name: string, type = 'A', opts: TestRequestOptions = {}): Request & { finish(done: Done): void } {
  let edns = opts.edns ?? (opts.do || opts.ednsOptions ? { udpSize: 1232, do: opts.do ?? false, version: 0 } : undefined);
  if (edns && opts.ednsOptions) edns = { ...edns, options: opts.ednsOptions };
  const query: Message = makeQuery(name, type, {
    ...(opts.id !== undefined ? { id: opts.id } : {}), cd: opts.cd ?? false, class: opts.class ?? 'IN', ...(edns ? { edns } : {}),
  });
  const listeners: ((d: Done) => void)[] = [];
  const address = opts.clientAddress ?? '127.0.0.1';
  const metadata = new RequestMetadata();
  const req: Request & { finish(done: Done): void } = {
    query,
    qname: trimDot(name).toLowerCase(),
    qtype: type,
    qclass: opts.class ?? 'IN',
    do: edns?.do ?? false,
    cd: opts.cd ?? false,
    udpSize: edns ? Math.max(512, edns.udpSize) : 512,
    edns: edns !== undefined,
    ednsOptions: edns?.options ?? [],
    get original() {
      return req;
    },
    metadata,
    client: { address, port: opts.clientPort ?? 53000, transport: opts.transport ?? 'udp', family: address.includes(':') ? 6 : 4 },
    local: { address: '127.0.0.1', port: 53 },
    zone: opts.zone ?? '',
    server: 'dns://:53',
    size: 40,
    start: performance.now(),
    signal: opts.signal ?? new AbortController().signal,
    onDone: (l) => void listeners.push(l),
    finish: (d) => listeners.forEach((l) => l(d)),
  };
  return req;
}

/** The ConfigError that `fn` throws (for asserting its code, position and message); anything else thrown, or nothing, fails. */
export function configErrorOf(fn: () => unknown): ConfigError {
  try {
    fn();
  } catch (err) {
    if (err instanceof ConfigError) return err;
    throw err;
  }
  throw new Error('expected a ConfigError, but nothing was thrown');
}

/** A next() stub: what it was called with, and the request the rest of the chain would have seen. */
export type StubNext = Next & {
  /** How many times it was called. */
  calls: number;
  /** The request of each call: `req` itself, or the one derived by next(changes). */
  readonly requests: Request[];
};

/**
 * A next() for `req` that answers with `reply` (default: NXDOMAIN to the request it runs with) and
 * records its calls. next(changes) derives the request as the server's chain would.
 */
export function stubNext(req: Request, reply?: Reply | ((req: Request) => Reply | Promise<Reply>)): StubNext {
  const requests: Request[] = [];
  const fn = Object.assign(
    (changes?: Parameters<Next>[0]) => {
      const seen = changes === undefined ? req : deriveRequest(req, changes);
      fn.calls++;
      requests.push(seen);
      if (reply === undefined) return makeReply(seen.query, { rcode: 3 });
      return typeof reply === 'function' ? reply(seen) : reply;
    },
    { calls: 0, requests },
  );
  return fn;
}

// ---- a real server on 127.0.0.1, for socket-level tests ----

export interface TestServer {
  readonly server: DnsServer;
  readonly port: number;
  /** Diagnostic log lines the server wrote. */
  readonly logs: string[];
  /** Sends a query over UDP (default) or TCP and decodes the answer. */
  query(name: string, type?: string, opts?: TestQueryOptions): Promise<Message>;
  /** Sends raw bytes and returns the raw answer (undefined when none came within the timeout). */
  raw(wire: Uint8Array, opts?: { transport?: Transport; timeoutMs?: number }): Promise<Buffer | undefined>;
  /** Runs dig against the server and returns its output. */
  dig(args: readonly string[]): Promise<string>;
  close(): Promise<void>;
}

export interface TestQueryOptions {
  transport?: Transport;
  do?: boolean;
  /** EDNS buffer size to advertise; undefined: no EDNS unless `do`. */
  udpSize?: number;
  cd?: boolean;
  /** EDNS options to send (an OPT is added). */
  ednsOptions?: readonly EdnsOption[];
  timeoutMs?: number;
}

export interface StartServerOptions {
  plugins?: readonly AnyPlugin[];
  env?: Record<string, string | undefined>;
  /** Names the Corefile in messages and sets the folder relative paths resolve from. */
  file?: string;
  deadlineMs?: number;
  /** What a fatal plugin error does (loop detected); default: log and exit the process. */
  onFatal?: (message: string) => void;
  /** TCP limits (idle timeout, connection bound, pipeline depth). */
  limits?: Partial<ListenerLimits>;
}

/** Starts a server from a Corefile string on 127.0.0.1 and a free port (keys without a port get it). */
export async function startServer(corefile: string, opts: StartServerOptions = {}): Promise<TestServer> {
  const logs: string[] = [];
  const logger = createLogger({ sink: { write: (line) => logs.push(line) }, debug: true });
  const server = await createServer({
    corefile, logger, defaultPort: 0, defaultBind: ['127.0.0.1'],
    ...(opts.file ? { file: opts.file } : {}), ...(opts.plugins ? { plugins: opts.plugins } : {}),
    ...(opts.env ? { env: opts.env } : {}), ...(opts.deadlineMs ? { deadlineMs: opts.deadlineMs } : {}),
    ...(opts.onFatal ? { onFatal: opts.onFatal } : {}), ...(opts.limits ? { limits: opts.limits } : {}),
  });
  const port = server.addresses()[0]!.port;
  return {
    server, port, logs,
    query: (name, type = 'A', q = {}) => queryServer('127.0.0.1', port, name, type, q),
    raw: (wire, r = {}) => rawExchange('127.0.0.1', port, wire, r.transport ?? 'udp', r.timeoutMs ?? 2000),
    dig: (args) => dig('127.0.0.1', port, args),
    close: () => server.close(),
  };
}

/** One query to a DNS server over UDP or TCP, decoded. */
export async function queryServer(address: string, port: number, name: string, type = 'A', q: TestQueryOptions = {}): Promise<Message> {
  const edns = q.do || q.udpSize !== undefined || q.ednsOptions
    ? { udpSize: q.udpSize ?? 1232, do: q.do ?? false, version: 0, ...(q.ednsOptions ? { options: q.ednsOptions } : {}) }
    : undefined;
  const query = makeQuery(name, type, { cd: q.cd ?? false, ...(edns ? { edns } : {}) });
  const answer = await rawExchange(address, port, encodeMessage(query), q.transport ?? 'udp', q.timeoutMs ?? 3000);
  if (!answer) throw new Error(`no answer from ${address}:${port} for ${name} ${type} over ${q.transport ?? 'udp'}`);
  return decodeMessage(answer);
}

/** Sends bytes, waits for one reply (UDP datagram, or one length-prefixed TCP frame). */
export function rawExchange(address: string, port: number, wire: Uint8Array, transport: Transport, timeoutMs: number): Promise<Buffer | undefined> {
  return new Promise((resolve, reject) => {
    if (transport === 'udp') {
      const sock = dgram.createSocket(address.includes(':') ? 'udp6' : 'udp4');
      const timer = setTimeout(() => { sock.close(); resolve(undefined); }, timeoutMs);
      sock.on('message', (msg) => { clearTimeout(timer); sock.close(); resolve(msg); });
      sock.on('error', (err) => { clearTimeout(timer); sock.close(); reject(err); });
      sock.send(wire, port, address);
      return;
    }
    const sock = net.connect({ host: address, port });
    let buf = Buffer.alloc(0);
    const timer = setTimeout(() => { sock.destroy(); resolve(undefined); }, timeoutMs);
    sock.on('connect', () => {
      const frame = Buffer.alloc(2 + wire.length);
      frame.writeUInt16BE(wire.length, 0);
      frame.set(wire, 2);
      sock.write(frame);
    });
    sock.on('data', (chunk) => {
      buf = Buffer.concat([buf, chunk]);
      if (buf.length >= 2 && buf.length >= 2 + buf.readUInt16BE(0)) {
        clearTimeout(timer);
        sock.destroy();
        resolve(buf.subarray(2, 2 + buf.readUInt16BE(0)));
      }
    });
    sock.on('error', (err) => { clearTimeout(timer); reject(err); });
    sock.on('close', () => { clearTimeout(timer); resolve(undefined); });
  });
}

/** Runs `dig @address -p port ARGS +time=2 +tries=1`. */
export function dig(address: string, port: number, args: readonly string[]): Promise<string> {
  return new Promise((resolve, reject) => {
    execFile('dig', [`@${address}`, '-p', String(port), '+time=2', '+tries=1', ...args], { timeout: 10_000 }, (err, stdout, stderr) => {
      if (err && !stdout) reject(new Error(`dig failed: ${err.message} ${stderr}`));
      else resolve(stdout);
    });
  });
}
