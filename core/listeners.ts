// UDP and TCP sockets for one address:port. They hand each query's bytes to the server and send back
// what it returns. TCP framing and the per-connection limits live in tcp-connection.ts; here: binding,
// socket buffers, and the connection bound.
import cluster from 'node:cluster';
import dgram from 'node:dgram';
import net from 'node:net';
import { getDefaultHighWaterMark } from 'node:stream';
import { InFlight } from './in-flight.js';
import type { LocalPeer, Peer, Transport } from './plugin.js';
import { TcpConnection, type ConnectionHost } from './tcp-connection.js';

export type ClientInfo = Peer & { transport: Transport; family: 4 | 6 };
export type QueryHandler = (wire: Buffer, client: ClientInfo, local: LocalPeer) => Buffer | undefined | Promise<Buffer | undefined>;

/**
 * A stream transport served instead of UDP+TCP (DNS over TLS, core/tls-listener.ts): it makes the
 * net.Server whose connections get TCP's framing, pipelining, deadlines and connection bound.
 */
export interface StreamSource {
  readonly scheme: 'tls';
  createServer(options: net.ServerOpts, onConnection: (socket: net.Socket) => void): net.Server;
}
/** Says a thing once per key (the server logs it once, however many listeners it has). */
export type WarnOnce = (key: string, message: string) => void;

/** The limits of the listeners; README.md "Limits" documents each with its default. */
export interface ListenerLimits {
  /** A TCP connection with no traffic this long is closed. */
  tcpIdleMs: number;
  /** Once the first byte of a TCP frame has arrived, the whole frame must arrive within this, else the connection is closed. */
  tcpFrameMs: number;
  /** At this many TCP connections, the oldest idle one (no query in flight) is closed to admit a new one; if none is idle, the new one is refused. */
  maxTcpConnections: number;
  /** Queries in flight per TCP connection before reading pauses. */
  maxTcpPipeline: number;
  /** Reply bytes queued unsent per TCP connection (the client is not reading) before reading pauses. */
  maxTcpUnsentBytes: number;
  /** A TCP connection over maxTcpUnsentBytes for this long is closed. */
  tcpDrainMs: number;
  /**
   * UDP queries from one client address answered asynchronously and not yet sent; beyond it, that
   * client's new datagrams are dropped, so that its queued work cannot delay other clients (the server counts these).
   */
  maxUdpInFlightPerClient: number;
  /** The UDP socket's receive buffer (SO_RCVBUF), for bursts; 0 keeps the kernel's default. */
  udpRecvBufferBytes: number;
  /** The UDP socket's send buffer (SO_SNDBUF); 0 keeps the kernel's default. */
  udpSendBufferBytes: number;
}

export const DEFAULT_LIMITS: Readonly<ListenerLimits> = {
  tcpIdleMs: 10_000,
  tcpFrameMs: 3_000,
  maxTcpConnections: 1000,
  maxTcpPipeline: 128,
  maxTcpUnsentBytes: 65_536,
  tcpDrainMs: 5_000,
  maxUdpInFlightPerClient: 128,
  udpRecvBufferBytes: 4 * 1024 * 1024,
  udpSendBufferBytes: 1024 * 1024,
};

/** One `--limit NAME=VALUE` (a ListenerLimits field and a whole number), checked. */
export function parseLimit(text: string): Partial<ListenerLimits> {
  const m = /^([A-Za-z]+)=(\d+)$/.exec(text);
  const name = m?.[1] as keyof ListenerLimits | undefined;
  if (!m || !name || !Object.hasOwn(DEFAULT_LIMITS, name)) {
    throw new Error(`'${text}' is not NAME=NUMBER with NAME one of ${Object.keys(DEFAULT_LIMITS).join(', ')}`);
  }
  return { [name]: Number(m[2]) };
}

/**
 * How a cluster worker's sockets share an address with the other workers'. 'cluster' (the default): the
 * cluster module's sharing, one socket owned by the primary; UDP datagrams go to whichever worker reads
 * first. 'reusePort' (NODENS_SOCKET_SHARING=reusePort; Node ≥ 22.12 or ≥ 23.1, Linux ≥ 3.9): each worker
 * binds its own UDP socket and TCP server with SO_REUSEPORT and the kernel hashes each client to one of
 * them. On the shared 2-core bench machine the cluster module's socket measured better (1.08–1.25× one
 * process against 0.81–1.08×: a worker that is not scheduled leaves its own socket's queue waiting, where
 * a shared socket is drained by whichever worker runs); reusePort is for machines with cores to spare.
 * A runtime or platform without SO_REUSEPORT falls back to 'cluster' when the bind fails. 'none': not a worker.
 */
export type SocketSharing = 'reusePort' | 'cluster' | 'none';

export function defaultSocketSharing(): SocketSharing {
  if (!cluster.isWorker) return 'none';
  if (process.env['NODENS_SOCKET_SHARING'] !== 'reusePort') return 'cluster';
  const [major = 0, minor = 0] = process.versions.node.split('.').map(Number);
  return major > 23 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12) ? 'reusePort' : 'cluster';
}

export class Listener implements ConnectionHost {
  /** How this listener's sockets were shared once bound (a failed reusePort bind falls back to 'cluster'). */
  sharing: SocketSharing = defaultSocketSharing();
  udp: dgram.Socket | undefined;
  tcp: net.Server | undefined;
  /** Open TCP connections, oldest first (the order in which idle ones are closed under pressure). */
  readonly connections = new Set<TcpConnection>();
  port = 0;
  /** False once shutdown begins: new datagrams and connections are ignored while in-flight ones finish. */
  accepting = true;
  /** Queries answered asynchronously and not yet sent. */
  readonly #inFlight = new InFlight();
  #local: LocalPeer = { address: '', port: 0 };

  constructor(
    readonly address: string,
    private handler: QueryHandler,
    readonly limits: ListenerLimits = DEFAULT_LIMITS,
    private readonly warnOnce: WarnOnce = () => {},
    /** Set: a stream-only listener (no UDP) whose server this source makes. */
    private readonly stream?: StreamSource,
  ) {
    // The UDP socket's lookup trusts that it is given IP literals (see literalLookup).
    if (net.isIP(address) === 0) throw new Error(`listen address '${address}' is not an IP address`);
  }

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
    // Port 0 in workers: each would pick its own port; the cluster module has the primary pick one for all.
    if (this.sharing === 'reusePort' && port === 0) this.sharing = 'cluster';
    if (this.sharing === 'reusePort') {
      try {
        return await this.#bindBothOnce(port, true);
      } catch (err) {
        // No SO_REUSEPORT here (an old kernel, another platform): share through the cluster module.
        const code = (err as NodeJS.ErrnoException).code;
        if (code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'EINVAL') throw err;
        this.sharing = 'cluster';
      }
    }
    return this.#bindBothOnce(port, false);
  }

  async #bindBothOnce(port: number, reusePort: boolean): Promise<void> {
    const family = net.isIPv6(this.address) ? 6 : 4;
    const udp = dgram.createSocket({ type: family === 6 ? 'udp6' : 'udp4', lookup: family === 6 ? literalLookup6 : literalLookup4, ...(reusePort ? { reusePort: true } : {}) });
    await new Promise<void>((resolve, reject) => {
      udp.once('error', reject);
      // exclusive: this worker's own socket, not one shared through the primary.
      udp.bind({ port, address: this.address, exclusive: reusePort }, () => {
        udp.off('error', reject);
        resolve();
      });
    });
    const boundPort = udp.address().port;
    const local: Peer = { address: this.address, port: boundPort };
    // allowHalfOpen: a client that sends FIN after its queries still gets their answers.
    // highWaterMark at most maxTcpUnsentBytes, so that 'drain' follows every crossing of that bound.
    const highWaterMark = Math.max(1, Math.min(getDefaultHighWaterMark(false), this.limits.maxTcpUnsentBytes));
    const tcp = net.createServer({ allowHalfOpen: true, highWaterMark }, (socket) => this.#onConnection(socket));
    try {
      await new Promise<void>((resolve, reject) => {
        tcp.once('error', reject);
        tcp.listen({ port: boundPort, host: this.address, ...(reusePort ? { reusePort: true, exclusive: true } : {}) }, () => {
          tcp.off('error', reject);
          resolve();
        });
      });
    } catch (err) {
      udp.close();
      throw err;
    }
    this.#sizeBuffers(udp); // once both are bound: a retry (port 0 taken for TCP) would warn again
    this.udp = udp;
    this.port = boundPort;
    this.#local = local;
    udp.on('error', () => { /* ICMP errors for a vanished client: nothing to do */ });
    udp.on('message', (msg, rinfo) => this.#onDatagram(udp, msg, rinfo, local));
    tcp.on('error', () => { /* accept errors (EMFILE) must not kill the process */ });
    this.tcp = tcp;
  }

  /** DNS over TLS: only the stream server, its connections handled as TCP's. */
  async #bindStream(port: number, source: StreamSource): Promise<void> {
    const highWaterMark = Math.max(1, Math.min(getDefaultHighWaterMark(false), this.limits.maxTcpUnsentBytes));
    const server = source.createServer({ allowHalfOpen: true, highWaterMark }, (socket) => this.#onConnection(socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen({ port, host: this.address }, () => {
        server.off('error', reject);
        resolve();
      });
    });
    this.port = (server.address() as net.AddressInfo).port;
    this.#local = { address: this.address, port: this.port, scheme: source.scheme };
    server.on('error', () => { /* accept errors (EMFILE) must not kill the process */ });
    this.tcp = server;
  }

  /** Sizes the UDP buffers for bursts; the kernel silently caps them at net.core.{r,w}mem_max, so read them back. */
  #sizeBuffers(udp: dgram.Socket): void {
    const capped: string[] = [];
    const apply = (want: number, set: (n: number) => void, get: () => number, what: string, sysctl: string): void => {
      if (want <= 0) return;
      try {
        set(want);
      } catch (err) {
        capped.push(`${what}: ${(err as Error).message}`);
        return;
      }
      // Linux reports twice what it grants (the doubling covers its bookkeeping), so less than asked means capped.
      const got = get();
      if (got < want) capped.push(`${what} is ${kib(got)} of the ${kib(want)} asked (raise ${sysctl}: sysctl -w ${sysctl}=${want})`);
    };
    apply(this.limits.udpRecvBufferBytes, (n) => udp.setRecvBufferSize(n), () => udp.getRecvBufferSize(), 'UDP receive buffer', 'net.core.rmem_max');
    apply(this.limits.udpSendBufferBytes, (n) => udp.setSendBufferSize(n), () => udp.getSendBufferSize(), 'UDP send buffer', 'net.core.wmem_max');
    if (capped.length > 0) {
      this.warnOnce('udp-buffers', `${capped.join('; ')}: the kernel drops what overflows them (RcvbufErrors, SndbufErrors in /proc/net/snmp)`);
    }
  }

  #onDatagram(udp: dgram.Socket, msg: Buffer, rinfo: dgram.RemoteInfo, local: Peer): void {
    if (!this.accepting) return;
    const client: ClientInfo = { address: rinfo.address, port: rinfo.port, transport: 'udp', family: rinfo.family === 'IPv6' ? 6 : 4 };
    const out = this.handler(msg, client, local);
    if (out instanceof Promise) {
      this.#inFlight.started();
      // Settled only once the datagram has left: closing the socket earlier would drop it.
      out.then(
        (wire) => (wire && this.udp ? udp.send(wire, rinfo.port, rinfo.address, () => this.#inFlight.settled()) : this.#inFlight.settled()),
        () => this.#inFlight.settled(),
      );
    } else if (out) {
      udp.send(out, rinfo.port, rinfo.address);
    }
  }

  #onConnection(socket: net.Socket): void {
    if (!this.accepting) return void socket.destroy();
    if (this.connections.size >= this.limits.maxTcpConnections && !this.#closeOldestIdle()) {
      socket.destroy(); // every slot is answering a query: refuse rather than drop one mid-answer
      return;
    }
    const conn = new TcpConnection(socket, this);
    this.connections.add(conn);
    socket.on('close', () => this.connections.delete(conn));
  }

  /** Frees a slot under connection pressure: the oldest connection with no query in flight. */
  #closeOldestIdle(): boolean {
    for (const conn of this.connections) {
      if (!conn.idle) continue;
      this.connections.delete(conn);
      conn.close();
      return true;
    }
    return false;
  }

  // ConnectionHost: what each TCP connection calls.
  serve(wire: Buffer, client: ClientInfo): Buffer | undefined | Promise<Buffer | undefined> {
    return this.handler(wire, client, this.#local);
  }

  asyncStarted(): void {
    this.#inFlight.started();
  }

  asyncSettled(): void {
    this.#inFlight.settled();
  }

  /** Stops taking new queries; the sockets stay open so that in-flight answers can still be sent. */
  stopAccepting(): void {
    this.accepting = false;
    this.tcp?.close();
  }

  /** Resolves once every query answered asynchronously has been sent (or after timeoutMs). */
  idle(timeoutMs: number): Promise<void> {
    return this.#inFlight.idle(timeoutMs);
  }

  /** Closes the UDP socket and every TCP connection. */
  async close(): Promise<void> {
    this.accepting = false;
    const udp = this.udp;
    this.udp = undefined;
    if (udp) await new Promise<void>((r) => udp.close(() => r()));
    const tcp = this.tcp;
    this.tcp = undefined;
    for (const c of this.connections) c.close();
    this.connections.clear();
    if (tcp?.listening) await new Promise<void>((r) => tcp.close(() => r()));
  }
}

/**
 * dgram resolves every address it binds or sends to through dns.lookup, a tick later, unless given a
 * lookup. A listener binds its own address (checked to be an IP literal) and sends only to the addresses
 * datagrams came from: both IP literals, so the lookup answers at once. test/bench/udp-lookup.ts: 0.2–0.4 µs
 * of CPU saved per send, of about 6.7 (3–5 %); an isIP check per send would cost about as much again.
 */
type LookupCallback = (err: NodeJS.ErrnoException | null, address: string, family: number) => void;
const literalLookup4 = (address: string, _family: unknown, callback: LookupCallback): void => callback(null, address, 4);
const literalLookup6 = (address: string, _family: unknown, callback: LookupCallback): void => callback(null, address, 6);

function kib(bytes: number): string {
  return bytes >= 1024 * 1024 && bytes % (1024 * 1024) === 0 ? `${bytes / (1024 * 1024)} MiB` : `${Math.round(bytes / 1024)} KiB`;
}
