// DNS over TLS (RFC 7858) for listeners.ts: the tls.Server whose connections the Listener frames,
// pipelines and bounds exactly as TCP's. A client that never finishes its handshake is dropped after
// the handshake timeout; certificates can be swapped while connections stay up.
import type net from 'node:net';
import tls from 'node:tls';
import type { StreamSource } from './listeners.js';

/** A handshake must finish within this (Node's default is 120 s: too long to hold a connection slot). */
export const HANDSHAKE_TIMEOUT_MS = 5000;

export class TlsSource implements StreamSource {
  readonly scheme = 'tls' as const;
  #server: tls.Server | undefined;

  constructor(
    private options: tls.SecureContextOptions,
    private readonly handshakeTimeoutMs = HANDSHAKE_TIMEOUT_MS,
    /** Sockets open at once, handshakes included (0: no bound besides the listener's own). */
    private readonly maxSockets = 0,
  ) {}

  createServer(options: net.ServerOpts, onConnection: (socket: net.Socket) => void): net.Server {
    const server = tls.createServer({ ...options, ...this.options, handshakeTimeout: this.handshakeTimeoutMs, ALPNProtocols: ['dot'] }, onConnection);
    // On the TCP socket itself, before the handshake: its flights and the first answers must not wait on Nagle.
    server.on('connection', (socket: net.Socket) => socket.setNoDelay(true));
    // The listener bounds finished connections (by evicting idle ones); this bounds those still in their handshake.
    if (this.maxSockets > 0) server.maxConnections = this.maxSockets;
    // A failed or timed-out handshake: that connection ends, the server goes on.
    server.on('tlsClientError', (_err, socket) => socket.destroy());
    this.#server = server;
    return server;
  }

  /** New certificates for new connections (reload, or the files changed). */
  setSecureContext(options: tls.SecureContextOptions): void {
    this.options = options;
    this.#server?.setSecureContext(options);
  }
}
