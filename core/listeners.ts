// UDP and TCP sockets for one address:port. They hand each query's bytes to the server and send back
// what it returns; TCP frames (2-byte length prefix) are reassembled across reads and answered as
// they finish, so several queries on one connection may interleave.
import dgram from 'node:dgram';
import net from 'node:net';
import type { LocalPeer, Peer, Transport } from './plugin.js';

export type ClientInfo = Peer & { transport: Transport; family: 4 | 6 };
export type QueryHandler = (wire: Buffer, client: ClientInfo, local: LocalPeer) => Buffer | undefined | Promise<Buffer | undefined>;

/**
 * A stream transport served instead of UDP+TCP (DNS over TLS, core/tls-listener.ts): it makes the
 * net.Server whose connections get TCP's framing, pipelining, idle timeout and connection bound.
 */
export interface StreamSource {
  readonly scheme: 'tls';
  createServer(onConnection: (socket: net.Socket) => void): net.Server;
}

export interface ListenerLimits {
  /** Idle TCP connections are closed after this long. */
  tcpIdleMs: number;
  /** New TCP connections beyond this are refused. */
  maxTcpConnections: number;
  /** Queries in flight per TCP connection before reading pauses. */
  maxTcpPipeline: number;
}

export const DEFAULT_LIMITS: ListenerLimits = { tcpIdleMs: 10_000, maxTcpConnections: 1000, maxTcpPipeline: 128 };

export class Listener {
  udp: dgram.Socket | undefined;
  tcp: net.Server | undefined;
  readonly connections = new Set<net.Socket>();
  port = 0;
  /** False once shutdown begins: new datagrams and connections are ignored while in-flight ones finish. */
  accepting = true;
  /** Queries answered asynchronously and not yet sent. */
  #pending = 0;
  #idle: (() => void) | undefined;

  constructor(
    readonly address: string,
    private handler: QueryHandler,
    private readonly limits: ListenerLimits = DEFAULT_LIMITS,
    /** Set: a stream-only listener (no UDP) whose server this source makes. */
    private readonly stream?: StreamSource,
  ) {}

  /** Replaces the handler (a reload keeps the sockets). */
  setHandler(handler: QueryHandler): void {
    this.handler = handler;
  }

  /** Binds UDP then TCP on the same port (port 0: UDP picks, TCP follows; retried if TCP finds it taken). */
  async listen(port: number): Promise<void> {
    for (let attempt = 0; ; attempt++) {
      try {
        return await this.#bindBoth(port);
      } catch (err) {
        if (port !== 0 || (err as NodeJS.ErrnoException).code !== 'EADDRINUSE' || attempt >= 20) throw err;
      }
    }
  }

  async #bindBoth(port: number): Promise<void> {
    if (this.stream) return this.#bindStream(port, this.stream);
    const family = net.isIPv6(this.address) ? 6 : 4;
    const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4' });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      udp.bind(port, this.address, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const boundPort = udp.address().port;
    const local: Peer = { address: this.address, port: boundPort };
    const tcp = net.createServer((socket) => (this.accepting ? this.#onConnection(socket, local) : socket.destroy()));
    tcp.maxConnections = this.limits.maxTcpConnections;
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: boundPort, host: this.address }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    this.udp = udp;
    this.port = boundPort;
    udp.on('error', () => { /* ICMP errors for a vanished client: nothing to do */ });
    udp.on('message', (msg, rinfo) => this.#onDatagram(udp, msg, rinfo, local));
    tcp.on('error', () => { /* accept errors (EMFILE) must not kill the process */ });
    this.tcp = tcp;
  }

  /** DNS over TLS: only the stream server, its connections handled as TCP's. */
  async #bindStream(port: number, source: StreamSource): Promise<void> {
    let local: LocalPeer | undefined;
    const server = source.createServer((socket) => (this.accepting && local ? this.#onConnection(socket, local) : socket.destroy()));
    server.maxConnections = this.limits.maxTcpConnections;
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.address }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    local = { address: this.address, port: this.port, scheme: source.scheme };
    server.on('error', () => { /* accept errors (EMFILE) must not kill the process */ });
    this.tcp = server;
  }

  #onDatagram(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo, local: Peer): void {
    if (!this.accepting) return;
    const client: ClientInfo = { address: rinfo.address, port: rinfo.port, transport: 'udp', family: rinfo.family === 'IPv6' ? 6 : 4 };
    const out = this.handler(msg, client, local);
    if (out instanceof Promise) {
      this.#pending++;
      // Settled only once the datagram has left: closing the socket earlier would drop it.
      out.then(
        (wire) => (wire && this.udp ? udp.send(wire, rinfo.port, rinfo.address, () => this.#settled()) : this.#settled()),
        () => this.#settled(),
      );
    } else if (out) {
      udp.send(out, rinfo.port, rinfo.address);
    }
  }

  #onConnection(socket: net.Socket, local: LocalPeer): void {
    this.connections.add(socket);
    socket.setNoDelay(true);
    socket.setTimeout(this.limits.tcpIdleMs, () => socket.destroy());
    const client: ClientInfo = {
      address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, transport: 'tcp', family: socket.remoteFamily === 'IPv6' ? 6 : 4,
    };
    let pending = Buffer.alloc(0);
    let inFlight = 0;
    const send = (wire: Buffer | undefined): void => {
      inFlight--;
      if (socket.isPaused() && inFlight < this.limits.maxTcpPipeline) socket.resume();
      if (!wire || socket.destroyed) return;
      const frame = Buffer.allocUnsafe(2 + wire.length);
      frame.writeUInt16BE(wire.length, 0);
      wire.copy(frame, 2);
      socket.write(frame);
    };
    socket.on('data', (chunk) => {
      pending = pending.length === 0 ? chunk : Buffer.concat([pending, chunk]);
      while (pending.length >= 2) {
        const len = pending.readUInt16BE(0);
        if (pending.length < 2 + len) break;
        const wire = pending.subarray(2, 2 + len);
        pending = pending.subarray(2 + len);
        inFlight++;
        const out = this.handler(wire, client, local);
        if (out instanceof Promise) {
          this.#pending++;
          out.then(send, () => send(undefined)).finally(() => this.#settled());
        } else {
          send(out);
        }
      }
      if (inFlight >= this.limits.maxTcpPipeline) socket.pause();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.connections.delete(socket));
  }

  /** Stops taking new queries; the sockets stay open so that in-flight answers can still be sent. */
  stopAccepting(): void {
    this.accepting = false;
    this.tcp?.close();
  }

  #settled(): void {
    if (--this.#pending === 0) this.#idle?.();
  }

  /** Resolves once every query answered asynchronously has been sent (or after timeoutMs). */
  idle(timeoutMs: number): Promise<void> {
    if (this.#pending === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, timeoutMs);
      this.#idle = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  /** Closes the UDP socket and every TCP connection. */
  async close(): Promise<void> {
    this.accepting = false;
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.tcp;
    this.tcp = undefined;
    for (const c of this.connections) c.destroy();
    this.connections.clear();
    if (tcp?.listening) await new Promise<void>((r) => tcp.close(() => r()));
  }
}
