// The loop handler: counts our own probe queries; seeing one more than twice means a forwarding loop
// leads back here, and the process is stopped before the loop can amplify. A pass-through otherwise.
import { makeErrorReply, Rcode, type Reply } from '../../core/message.js';
import { SLOW_PATH, type FastPath, type Handler, type Next, type Request } from '../../core/plugin.js';

/** `host:port` as Go's net.JoinHostPort writes it (IPv6 in brackets; '' for a wildcard bind). */
export function joinHostPort(host: string, port: number): string {
  return host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
}

export class Loop implements Handler {
  #seen = 0;
  #off = false;
  #detected = false;
  readonly #stop = new AbortController();

  constructor(
    /** The block's first zone ('' is the root). */
    readonly zone: string,
    /** The probe's name, lower-case, without the trailing dot. */
    readonly qname: string,
    /** The address the probe was sent to, as the message shows it (`:1053`). */
    private readonly listenAddress: () => string,
    private readonly fatal: (message: string) => void,
  ) {}

  /** Only its own probe needs serve(); every other query just passes. */
  readonly fast: FastPath = {
    answer: (req) => (this.#off || req.qtype !== 'HINFO' || req.qname !== this.qname ? undefined : SLOW_PATH),
  };

  serve(req: Request, next: Next): Reply | Promise<Reply> {
    if (this.#off || req.qtype !== 'HINFO' || req.qname !== this.qname) return next();
    this.#seen++;
    if (this.#seen <= 2) return next();
    if (!this.#detected) {
      this.#detected = true;
      this.fatal(this.message(req));
    }
    // Break the loop here rather than send the probe round once more.
    return makeErrorReply(req.query, Rcode.SERVFAIL);
  }

  /** CoreDNS's wording, so that its troubleshooting guide applies. */
  message(req: Request): string {
    const zone = this.zone === '' ? '.' : `${this.zone}.`;
    return `Loop (${joinHostPort(req.client.address, req.client.port)} -> ${this.listenAddress()}) detected for zone "${zone}", ` +
      `see https://coredns.io/plugins/loop#troubleshooting. Query: "HINFO ${this.qname}."`;
  }

  /** A probe could not be sent or answered: start counting afresh (as CoreDNS does). */
  reset(): void {
    this.#seen = 0;
  }

  /** The probe phase is over: from now on a pure pass-through. */
  disable(): void {
    this.#off = true;
  }

  /** Aborted on close(): the probe task stops. */
  get stopped(): AbortSignal {
    return this.#stop.signal;
  }

  close(): void {
    this.#off = true;
    this.#stop.abort();
  }

  get disabled(): boolean {
    return this.#off;
  }

  get seen(): number {
    return this.#seen;
  }
}
