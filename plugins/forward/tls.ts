// DNS over TLS to an upstream (RFC 7858): the TCP connection of tcp.ts over a verified TLS session.
// The certificate must chain to the configured CA (or the system's) and name `tls_servername`, or the
// upstream's IP when none is set; a refused certificate fails the try with code ETLS.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import tls from 'node:tls';
import type net from 'node:net';
import type { Endpoint } from './to.js';

export interface TlsClientOptions {
  readonly servername?: string;
  readonly ca?: Buffer;
  readonly cert?: Buffer;
  readonly key?: Buffer;
}

/** `tls [CERT KEY] [CA]` as CoreDNS reads it: no argument, CA, CERT KEY, or CERT KEY CA. */
export function readTlsArgs(args: readonly string[], dir: string, servername: string | undefined): TlsClientOptions {
  const file = (f: string): Buffer => readFileSync(path.resolve(dir, f));
  const [a, b, c] = args;
  return {
    ...(servername ? { servername } : {}),
    ...(args.length === 1 ? { ca: file(a!) } : {}),
    ...(args.length >= 2 ? { cert: file(a!), key: file(b!) } : {}),
    ...(args.length === 3 ? { ca: file(c!) } : {}),
  };
}

/** Opens the TLS connection; TcpConnection writes its frames at once (TLS buffers them until the handshake is done). */
export function tlsConnector(options: TlsClientOptions): (to: Endpoint) => net.Socket {
  return (to) => tls.connect({
    host: to.address, port: to.port, ALPNProtocols: ['dot'],
    ...(options.servername ? { servername: options.servername } : {}),
    ...(options.ca ? { ca: options.ca } : {}),
    ...(options.cert ? { cert: options.cert, key: options.key } : {}),
  }).setNoDelay(true);
}

/** Node's certificate verification failures (an unknown CA, a wrong name, an expired certificate). */
export function isCertificateError(err: NodeJS.ErrnoException): boolean {
  return /^(ERR_TLS_CERT|CERT_|UNABLE_TO_)|SELF_SIGNED|HOSTNAME_MISMATCH/.test(err.code ?? '');
}
