// The per-query Request: a read-only view of the query plus the lazily made deadline signal and done hooks.
import type { Message } from './message.js';
import type { Done, LocalPeer, Peer, Request, Transport } from './plugin.js';

export interface RequestInit {
  query: Message;
  qname: string;
  qtype: string;
  qclass: string;
  client: Peer & { transport: Transport; family: 4 | 6 };
  local: LocalPeer;
  size: number;
  start: number;
}

/** Where requests register the abort controllers they make, so shutdown can abort them. */
export interface SignalOwner {
  readonly deadlineMs: number;
  track(controller: AbortController): void;
  untrack(controller: AbortController): void;
}

export class QueryRequest implements Request {
  readonly query: Message;
  readonly qname: string;
  readonly qtype: string;
  readonly qclass: string;
  readonly do: boolean;
  readonly cd: boolean;
  readonly udpSize: number;
  readonly edns: boolean;
  readonly client: Peer & { transport: Transport; family: 4 | 6 };
  readonly local: LocalPeer;
  readonly size: number;
  readonly start: number;
  zone = '';
  /** The plugin that produced the reply (set by the chain). */
  producer: string | undefined;
  #server: string | undefined;
  #controller: AbortController | undefined;
  #timer: NodeJS.Timeout | undefined;
  #listeners: ((done: Done) => void)[] | undefined;

  constructor(init: RequestInit, private readonly owner: SignalOwner) {
    this.query = init.query;
    this.qname = init.qname;
    this.qtype = init.qtype;
    this.qclass = init.qclass;
    const edns = init.query.edns;
    this.do = edns?.do ?? false;
    this.cd = init.query.cd;
    this.udpSize = edns ? Math.max(512, edns.udpSize) : 512;
    this.edns = edns !== undefined;
    this.client = init.client;
    this.local = init.local;
    this.size = init.size;
    this.start = init.start;
  }

  /** CoreDNS's metrics label for the listener; made only when a plugin (prometheus, cache) asks. */
  get server(): string {
    return (this.#server ??= `${this.local.scheme ?? 'dns'}://:${this.local.port}`);
  }

  // Most queries never look at their signal (a cache or hosts hit): make it only when asked.
  get signal(): AbortSignal {
    if (!this.#controller) {
      const controller = new AbortController();
      this.#controller = controller;
      this.owner.track(controller);
      this.#timer = setTimeout(() => controller.abort(new Error('query deadline passed')), this.owner.deadlineMs);
      this.#timer.unref();
    }
    return this.#controller.signal;
  }

  onDone(listener: (done: Done) => void): void {
    (this.#listeners ??= []).push(listener);
  }

  /** Is there a listener or a deadline timer that finish() must settle? */
  get awaitsFinish(): boolean {
    return this.#listeners !== undefined || this.#controller !== undefined;
  }

  /** Called once by the server after sending (or dropping) the reply. */
  finish(done: Done): void {
    if (this.#controller) {
      clearTimeout(this.#timer);
      this.owner.untrack(this.#controller);
    }
    if (this.#listeners) for (const l of this.#listeners) l(done);
  }
}
