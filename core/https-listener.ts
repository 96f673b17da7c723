// DNS over HTTPS (RFC 8484): GET /dns-query?dns=BASE64URL and POST application/dns-message, over
// HTTP/2 and HTTP/1.1 on one TLS port. Bad requests get a status (400, 404, 405, 413, 414, 415), never
// a crash; streams per connection, connections, request size and idle time are bounded.
import http2 from 'node:http2';
import type net from 'node:net';
import type tls from 'node:tls';
import { DEFAULT_LIMITS, type ClientInfo, type ListenerLimits, type QueryHandler } from './listeners.js';
import type { LocalPeer } from './plugin.js';
import { HANDSHAKE_TIMEOUT_MS } from './tls-listener.js';
import { InFlight } from './in-flight.js';

export const DOH_PATH = '/dns-query';
/** Largest DNS message (RFC 1035 over TCP); a POST body past this is refused with 413. */
const MAX_MESSAGE = 65535;
/** A GET's `dns` parameter longer than this (about 6 KB of query) is refused with 414. */
const MAX_GET_PARAM = 8192;
/** HTTP/2 streams one connection may have open at once (excess streams are refused by the protocol). */
export const MAX_CONCURRENT_STREAMS = 100;
const BASE64URL = /^[A-Za-z0-9_-]*$/;

export class HttpsListener {
  server: http2.Http2SecureServer | undefined;
  port = 0;
  accepting = true;
  #local: LocalPeer | undefined;
  readonly #inFlight = new InFlight();
  readonly #sockets = new Set<net.Socket>();

  constructor(
    readonly address: string,
    private handler: QueryHandler,
    private options: tls.SecureContextOptions,
    private readonly limits: ListenerLimits = DEFAULT_LIMITS,
  ) {}

  setHandler(handler: QueryHandler): void {
    this.handler = handler;
  }

  setSecureContext(options: tls.SecureContextOptions): void {
    this.options = options;
    this.server?.setSecureContext(options);
  }

  async listen(port: number): Promise<void> {
    const server = http2.createSecureServer({
      ...this.options,
      allowHTTP1: true,
      handshakeTimeout: Math.min(HANDSHAKE_TIMEOUT_MS, this.limits.tcpIdleMs),
      settings: { maxConcurrentStreams: MAX_CONCURRENT_STREAMS },
      maxSessionMemory: 4,
      maxHeaderListPairs: 64,
    }, (req, res) => this.#onRequest(req, res));
    server.maxConnections = this.limits.maxTcpConnections;
    // Idle HTTP/2 sessions and HTTP/1.1 connections are closed as idle TCP connections are.
    server.setTimeout(this.limits.tcpIdleMs);
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    // Without it, an answer's DATA frames wait on Nagle and the client's delayed ACK (40 ms a query).
    server.on('connection', (socket: net.Socket) => socket.setNoDelay(true));
    server.on('secureConnection', (socket: net.Socket) => {
      this.#sockets.add(socket);
      socket.on('close', () => this.#sockets.delete(socket));
    });
    server.on('sessionError', () => { /* a broken session ends itself */ });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.address }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', () => { /* accept errors (EMFILE) must not kill the process */ });
    this.server = server;
    this.port = (server.address() as net.AddressInfo).port;
    this.#local = { address: this.address, port: this.port, scheme: 'https' };
  }

  #onRequest(req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
    res.on('error', () => { /* the client went away */ });
    if (!this.accepting || !this.#local) return status(res, 503);
    const url = req.url ?? '';
    const q = url.indexOf('?');
    if ((q < 0 ? url : url.slice(0, q)) !== DOH_PATH) return status(res, 404);
    if (req.method === 'GET') {
      const dns = queryParam(url.slice(q + 1), 'dns');
      if (dns === undefined) return status(res, 400, 'missing dns parameter');
      if (dns.length > MAX_GET_PARAM) return status(res, 414);
      if (!BASE64URL.test(dns)) return status(res, 400, 'dns parameter is not base64url');
      return this.#answer(Buffer.from(dns, 'base64url'), req, res);
    }
    if (req.method === 'POST') {
      const type = req.headers['content-type'];
      if (type === undefined || type.split(';')[0]!.trim().toLowerCase() !== 'application/dns-message') return status(res, 415);
      const declared = Number(req.headers['content-length'] ?? 0);
      if (declared > MAX_MESSAGE) return status(res, 413);
      const chunks: Buffer[] = [];
      let size = 0;
      req.on('data', (chunk: Buffer) => {
        size += chunk.length;
        if (size > MAX_MESSAGE) {
          status(res, 413);
          req.destroy();
          return;
        }
        chunks.push(chunk);
      });
      req.on('end', () => {
        if (size <= MAX_MESSAGE) this.#answer(chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks), req, res);
      });
      req.on('error', () => { /* the client went away */ });
      return;
    }
    res.setHeader('allow', 'GET, POST');
    return status(res, 405);
  }

  #answer(wire: Buffer, req: http2.Http2ServerRequest, res: http2.Http2ServerResponse): void {
    if (wire.length < 12) return status(res, 400, 'not a DNS message');
    const socket = req.socket;
    const client: ClientInfo = {
      address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, transport: 'tcp', family: socket.remoteFamily === 'IPv6' ? 6 : 4,
    };
    let out: ReturnType<QueryHandler>;
    try {
      out = this.handler(wire, client, this.#local!);
    } catch {
      return status(res, 500);
    }
    if (!(out instanceof Promise)) return reply(res, out);
    this.#inFlight.started();
    out.then((w) => reply(res, w), () => status(res, 500)).finally(() => this.#inFlight.settled());
  }

  stopAccepting(): void {
    this.accepting = false;
    this.server?.close();
  }

  idle(timeoutMs: number): Promise<void> {
    return this.#inFlight.idle(timeoutMs);
  }

  async close(): Promise<void> {
    this.accepting = false;
    const server = this.server;
    this.server = undefined;
    for (const s of this.#sockets) s.destroy();
    this.#sockets.clear();
    if (server?.listening) await new Promise<void>((r) => server.close(() => r()));
  }
}

/** A dropped query (unparseable header) is the client's fault: 400. */
function reply(res: http2.Http2ServerResponse, wire: Buffer | undefined): void {
  if (!wire) return status(res, 400, 'not a DNS query');
  if (res.destroyed || res.headersSent) return;
  const headers = { 'content-type': 'application/dns-message', 'content-length': wire.length, 'cache-control': `max-age=${minTtl(wire)}` };
  res.writeHead(200, headers);
  res.end(wire);
}

function status(res: http2.Http2ServerResponse, code: number, text?: string): void {
  if (res.destroyed || res.headersSent) return;
  const body = `${text ?? http2StatusText(code)}\n`;
  res.writeHead(code, { 'content-type': 'text/plain', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}

function http2StatusText(code: number): string {
  return ({ 400: 'bad request', 404: 'not found', 405: 'method not allowed', 413: 'payload too large', 414: 'URI too long', 415: 'unsupported media type (want application/dns-message)', 500: 'internal error', 503: 'shutting down' } as Record<number, string>)[code] ?? '';
}

/** One parameter of a query string, undefined when absent (no percent-decoding: base64url needs none). */
function queryParam(query: string, name: string): string | undefined {
  for (const part of query.split('&')) {
    const eq = part.indexOf('=');
    if ((eq < 0 ? part : part.slice(0, eq)) === name) return eq < 0 ? '' : part.slice(eq + 1);
  }
  return undefined;
}

/**
 * The smallest TTL of the answer's records (RFC 8484 §5.1: freshness no longer than that); 0 when the
 * message has none or cannot be walked.
 */
export function minTtl(wire: Buffer): number {
  try {
    const qd = wire.readUInt16BE(4);
    const rrs = wire.readUInt16BE(6) + wire.readUInt16BE(8) + wire.readUInt16BE(10);
    let at = 12;
    for (let i = 0; i < qd; i++) at = skipName(wire, at) + 4;
    let min = -1;
    for (let i = 0; i < rrs; i++) {
      at = skipName(wire, at);
      const type = wire.readUInt16BE(at);
      const ttl = wire.readUInt32BE(at + 4);
      if (type !== 41 && (min < 0 || ttl < min)) min = ttl; // OPT's TTL field is flags
      at += 10 + wire.readUInt16BE(at + 8);
    }
    return min < 0 ? 0 : min;
  } catch {
    return 0;
  }
}

function skipName(wire: Buffer, at: number): number {
  for (;;) {
    const len = wire[at];
    if (len === undefined) throw new RangeError('name past the end');
    if (len === 0) return at + 1;
    if ((len & 0xc0) === 0xc0) return at + 2;
    at += len + 1;
  }
}
