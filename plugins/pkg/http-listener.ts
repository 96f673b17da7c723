// HTTP endpoints shared by health, ready and prometheus: one node:http server per address,
// reference-counted, so several server blocks (or a reload's old and new config) that name the
// same address share one listener, as CoreDNS's uniq addresses do.
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { errorAt } from '../../core/config/errors.js';
import type { Token } from '../../core/config/types.js';

/** Answers one request for a path; returns the status and body. */
export type Route = (req: http.IncomingMessage) => RouteResult | Promise<RouteResult>;
export interface RouteResult {
  readonly status: number;
  readonly body: string;
  readonly contentType?: string;
}

interface Listener {
  readonly server: http.Server;
  readonly ready: Promise<void>;
  /** path -> routes in registration order; the last one answers (a reload's new instance). */
  readonly routes: Map<string, Route[]>;
  refs: number;
}

const listeners = new Map<string | symbol, Listener>();

/** JSON Schema of an ADDRESS option (`:8080`, `127.0.0.1:8080`, `[::1]:8080`). */
export const ADDRESS_SCHEMA = {
  type: 'string', pattern: '^(\\[[^\\]]*\\]|[^:\\[\\]]*):\\d{1,5}$',
  // What a pattern mismatch says after the value (config errors never show the regex).
  description: 'is not an address (like :8080 or 127.0.0.1:8080)',
} as const;

/** The ADDRESS argument of health, ready or prometheus, checked at its token; `example` shows the default. */
export function addressArg(tok: Token, plugin: string, example: string): string {
  if (!splitHostPort(tok.text)) errorAt(tok, plugin, `'${tok.text}' is not an address (like ${example})`, 'ERR_BAD_VALUE');
  return tok.text;
}

/** Splits `:8080`, `127.0.0.1:8080`, `[::1]:8080`, `localhost:9153` into host and port. */
export function splitHostPort(address: string): { host: string; port: number } | undefined {
  const m = /^(?:\[([^\]]*)\]|([^:[\]]*)):(\d{1,5})$/.exec(address);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port > 65535) return undefined;
  return { host: m[1] ?? m[2] ?? '', port };
}

/** A handle on one route of a shared listener: its bound address, and release(). */
export interface Endpoint {
  /** The address the listener is bound to (the real port when 0 was asked). */
  address(): AddressInfo;
  /** `http://HOST:PORT` reachable from this host (loopback for a wildcard bind). */
  url(): string;
  release(): Promise<void>;
}

function serve(l: Listener, req: http.IncomingMessage, res: http.ServerResponse): void {
  const path = (req.url ?? '/').split('?')[0]!;
  const stack = l.routes.get(path);
  const route = stack?.[stack.length - 1];
  if (!route) {
    res.writeHead(404, { 'content-type': 'text/plain; charset=utf-8' }).end('404 page not found\n');
    return;
  }
  Promise.resolve()
    .then(() => route(req))
    .then(
      (r) => res.writeHead(r.status, { 'content-type': r.contentType ?? 'text/plain; charset=utf-8' }).end(r.body),
      (err: unknown) => res.writeHead(500, { 'content-type': 'text/plain; charset=utf-8' }).end(String(err)),
    );
}

function open(address: string): Listener {
  const hp = splitHostPort(address);
  if (!hp) throw new Error(`'${address}' is not an address (like :8080 or 127.0.0.1:8080)`);
  const server = http.createServer();
  const l: Listener = {
    server,
    routes: new Map(),
    refs: 0,
    ready: new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      // An empty host means every address, as Go's net.Listen(":8080") does.
      server.listen({ port: hp.port, ...(hp.host ? { host: hp.host } : {}) }, () => {
        server.off('error', reject);
        resolve();
      });
    }),
  };
  server.on('request', (req, res) => serve(l, req, res));
  // Probes must not keep idle sockets (and a shutdown) waiting.
  server.keepAliveTimeout = 5000;
  return l;
}

/** Registers `route` for `path` on the listener of `address`, opening it if needed. */
export async function listen(address: string, path: string, route: Route): Promise<Endpoint> {
  // Port 0 asks for a fresh port each time: never shared.
  const key = splitHostPort(address)?.port === 0 ? Symbol(address) : address;
  let l = listeners.get(key);
  if (!l) {
    l = open(address);
    listeners.set(key, l);
  }
  l.refs++;
  const stack = l.routes.get(path) ?? [];
  stack.push(route);
  l.routes.set(path, stack);
  const listener = l;
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    const s = listener.routes.get(path)!;
    s.splice(s.lastIndexOf(route), 1);
    if (s.length === 0) listener.routes.delete(path);
    if (--listener.refs > 0) return;
    if (listeners.get(key) === listener) listeners.delete(key);
    if (!listener.server.listening) return;
    listener.server.closeAllConnections();
    await new Promise<void>((r) => listener.server.close(() => r()));
  };
  try {
    await listener.ready;
  } catch (err) {
    await release();
    throw err;
  }
  const addr = (): AddressInfo => listener.server.address() as AddressInfo;
  return {
    address: addr,
    url: () => {
      const a = addr();
      const host = a.address === '::' || a.address === '0.0.0.0' ? '127.0.0.1' : a.address.includes(':') ? `[${a.address}]` : a.address;
      return `http://${host}:${a.port}`;
    },
    release,
  };
}
