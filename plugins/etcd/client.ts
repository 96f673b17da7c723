// Builds the etcd v3 client (npm etcd3) from the plugin's connection options.
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import type { Etcd3, IOptions } from 'etcd3';

// etcd3 (with gRPC) adds ~30 MB to the process: load it only when an etcd client is made.
const loadEtcd3 = () => createRequire(import.meta.url)('etcd3') as typeof import('etcd3');

export interface ConnectionOptions {
  /** etcd endpoints; default http://localhost:2379. */
  endpoints?: readonly string[];
  username?: string;
  password?: string;
  /** Absolute paths: [], [CACERT], [CERT, KEY] or [CERT, KEY, CACERT] as CoreDNS's tls takes them. */
  tls?: readonly string[];
  /** Longest delay between reconnection attempts of the watch stream, in ms; default 2000. */
  backoffCapMs?: number;
  /** Deadline of one unary call (the prefix get, a transaction), in ms; default 5000. */
  callTimeoutMs?: number;
}

export const DEFAULT_ENDPOINT = 'http://localhost:2379';

type FaultHandling = NonNullable<IOptions['faultHandling']>;
type Policy = NonNullable<FaultHandling['global']>;
type Backoff = NonNullable<FaultHandling['watchBackoff']>;

/**
 * Calls straight through. The client's default policies retry three times and open a per-host
 * circuit for 5 s after three failures, which would delay catching up after etcd returns; the
 * mirror and the sync run their own retry loops with a capped backoff instead.
 */
const passThrough = {
  execute: <T>(fn: (ctx: { signal: AbortSignal }) => PromiseLike<T> | T) =>
    Promise.resolve().then(() => fn({ signal: new AbortController().signal })),
} as unknown as Policy;

/** Doubling from 100 ms up to `cap`, for the client's watch-stream reconnects. */
function cappedBackoff(duration: number, cap: number): Backoff {
  return { duration, next: () => cappedBackoff(Math.min(cap, duration * 2), cap) } as unknown as Backoff;
}

export function createClient(opts: ConnectionOptions): Etcd3 {
  const endpoints = opts.endpoints && opts.endpoints.length > 0 ? [...opts.endpoints] : [DEFAULT_ENDPOINT];
  const timeout = opts.callTimeoutMs ?? 5000;
  const options: IOptions = {
    hosts: endpoints,
    dialTimeout: timeout,
    defaultCallOptions: (ctx) => (ctx.isStream ? {} : { deadline: Date.now() + timeout }),
    faultHandling: {
      host: () => passThrough,
      global: passThrough,
      watchBackoff: cappedBackoff(50, opts.backoffCapMs ?? 2000),
    },
  };
  if (opts.username !== undefined) options.auth = { username: opts.username, password: opts.password ?? '' };
  const tls = opts.tls;
  if (tls && tls.length > 0) {
    const read = (f: string | undefined): Buffer | undefined => (f === undefined ? undefined : readFileSync(f));
    const [cert, key, ca] = tls.length === 1 ? [undefined, undefined, tls[0]] : tls;
    options.credentials = {
      rootCertificate: read(ca) as Buffer, // undefined: the system's CAs
      ...(key !== undefined ? { privateKey: read(key) } : {}),
      ...(cert !== undefined ? { certChain: read(cert) } : {}),
    };
  } else if (tls && endpoints.every((e) => e.startsWith('http://'))) {
    // `tls` with no arguments: the system's CAs, even for endpoints written as http://.
    options.credentials = { rootCertificate: undefined as unknown as Buffer };
  }
  return new (loadEtcd3().Etcd3)(options);
}
