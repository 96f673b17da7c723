// One DNS-over-TCP connection: frames (2-byte length prefix) reassembled across reads and answered as
// they finish, so answers may interleave; and the limits that keep a hostile client from holding the
// server: a deadline per frame, bounded queries in flight, bounded unsent reply bytes, and an answer
// for a client that half-closes (query, then FIN) before its answers are ready.
import type net from 'node:net';
import type { ClientInfo, ListenerLimits } from './listeners.js';

/** What a connection needs from its listener. */
export interface ConnectionHost {
  readonly limits: ListenerLimits;
  serve(wire: Buffer, client: ClientInfo): Buffer | undefined | Promise<Buffer | undefined>;
  /** Counts an answer computed asynchronously, so that shutdown can wait for it. */
  asyncStarted(): void;
  asyncSettled(): void;
}

const EMPTY = Buffer.alloc(0);

export class TcpConnection {
  readonly client: ClientInfo;
  /** Bytes read and not yet served: a partial frame, or whole frames left while reading waits. */
  #buffered: Buffer = EMPTY;
  #inFlight = 0;
  #pumping = false;
  /** The client sent FIN: answer what is in flight, then end our side. */
  #peerEnded = false;
  /** Unsent reply bytes passed maxTcpUnsentBytes: reading waits for 'drain'. */
  #overUnsent = false;
  #frameTimer: NodeJS.Timeout | undefined;
  #drainTimer: NodeJS.Timeout | undefined;

  constructor(readonly socket: net.Socket, private readonly host: ConnectionHost) {
    this.client = {
      address: socket.remoteAddress ?? '', port: socket.remotePort ?? 0, transport: 'tcp', family: socket.remoteFamily === 'IPv6' ? 6 : 4,
    };
    socket.setNoDelay(true);
    socket.setTimeout(host.limits.tcpIdleMs, () => this.close());
    socket.on('data', (chunk: Buffer) => {
      this.#buffered = this.#buffered.length === 0 ? chunk : Buffer.concat([this.#buffered, chunk]);
      this.#pump();
    });
    socket.on('end', () => {
      this.#peerEnded = true;
      this.#pump();
    });
    socket.on('drain', () => {
      if (!this.#overUnsent || socket.writableLength > host.limits.maxTcpUnsentBytes) return;
      this.#overUnsent = false;
      clearTimeout(this.#drainTimer);
      this.#pump();
    });
    socket.on('error', () => socket.destroy());
    socket.on('close', () => this.#stopClocks());
  }

  /** No query is being answered: the connection may be closed to admit another under pressure. */
  get idle(): boolean {
    return this.#inFlight === 0;
  }

  /**
   * Closes the connection. `reset` (for a client that broke a limit) sends RST, which also discards what
   * the kernel still holds for a client that does not read; a plain close would keep that until the
   * kernel gives up on the zero window, and the client would never see our FIN.
   */
  close(reset = false): void {
    this.#stopClocks();
    if (reset) this.socket.resetAndDestroy();
    else this.socket.destroy();
  }

  /** Reading waits while too many queries are in flight or too many reply bytes are unsent. */
  #mustWait(): boolean {
    return this.#overUnsent || this.#inFlight >= this.host.limits.maxTcpPipeline;
  }

  /** Serves the whole frames buffered (as far as the limits allow), then decides whether to read on. */
  #pump(): void {
    if (this.#pumping || this.socket.destroyed) return;
    this.#pumping = true;
    let buf = this.#buffered;
    let completed = false;
    while (buf.length >= 2 && !this.#mustWait()) {
      const end = 2 + buf.readUInt16BE(0);
      if (buf.length < end) break;
      const wire = buf.subarray(2, end);
      buf = buf.subarray(end);
      this.#buffered = buf;
      completed = true;
      this.#serve(wire);
    }
    this.#pumping = false;
    if (this.socket.destroyed) return;
    if (this.#mustWait()) {
      // While reading waits, the rest of a frame cannot arrive: its clock starts again on resuming.
      this.socket.pause();
      this.#stopFrameClock();
    } else if (this.#peerEnded) {
      // A partial frame left at FIN will never complete: drop it, answer the rest, then end our side.
      this.#stopFrameClock();
      if (this.#inFlight === 0 && !this.socket.writableEnded) this.#end();
    } else {
      if (this.socket.isPaused()) this.socket.resume();
      if (completed || buf.length === 0) this.#stopFrameClock();
      // A frame has begun: all of it must arrive within tcpFrameMs of its first byte (slowloris).
      if (buf.length > 0) this.#frameTimer ??= setTimeout(() => this.close(true), this.host.limits.tcpFrameMs);
    }
  }

  #serve(wire: Buffer): void {
    this.#inFlight++;
    const out = this.host.serve(wire, this.client);
    if (out instanceof Promise) {
      this.host.asyncStarted();
      out.then(
        (answer) => (this.#answer(answer), this.host.asyncSettled()),
        () => (this.#answer(undefined), this.host.asyncSettled()),
      );
    } else {
      this.#answer(out);
    }
  }

  #answer(wire: Buffer | undefined): void {
    this.#inFlight--;
    const socket = this.socket;
    if (wire && socket.writable) {
      const frame = Buffer.allocUnsafe(2 + wire.length);
      frame.writeUInt16BE(wire.length, 0);
      wire.copy(frame, 2);
      socket.write(frame);
      // The server's highWaterMark is at most maxTcpUnsentBytes, so past the bound write() has
      // returned false and 'drain' will come once the client reads.
      if (socket.writableLength > this.host.limits.maxTcpUnsentBytes && !this.#overUnsent) {
        this.#overUnsent = true;
        this.#drainTimer = setTimeout(() => this.close(true), this.host.limits.tcpDrainMs);
      }
    }
    this.#pump();
  }

  #end(): void {
    this.#stopClocks();
    this.socket.end();
  }

  #stopFrameClock(): void {
    if (this.#frameTimer === undefined) return;
    clearTimeout(this.#frameTimer);
    this.#frameTimer = undefined;
  }

  #stopClocks(): void {
    this.#stopFrameClock();
    clearTimeout(this.#drainTimer);
  }
}
