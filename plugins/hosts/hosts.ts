// The hosts handler: A, AAAA and PTR answers from the prebuilt index; synchronous on purpose (hot path).
import { makeReply, Rcode, type Reply, type ResourceRecord } from '../../core/message.js';
import type { Next, Request } from '../../core/plugin.js';
import { fallsThrough, matchZone, type Fallthrough } from '../../core/zones.js';
import { instantiate, type HostEntry, type HostsIndex } from './hostsfile.js';

export interface HostsState {
  /** Swapped whole by a reload; a query reads it once. */
  index: HostsIndex;
  readonly origins: readonly string[];
  readonly fall: Fallthrough;
  readonly fallUnsupported: boolean;
}

const EMPTY: readonly ResourceRecord[] = [];

function lookup(index: HostsIndex, qname: string): HostEntry | undefined {
  const entry = index.names.get(qname);
  if (entry !== undefined || !index.wildcards) return entry;
  // `*.example.com` matches exactly one label below example.com, never the apex.
  const dot = qname.indexOf('.');
  if (dot < 0) return undefined;
  const wild = index.names.get(`*.${qname.slice(dot + 1)}`);
  return wild && instantiate(wild, qname);
}

export function serveHosts(state: HostsState, req: Request, next: Next): Reply | Promise<Reply> {
  const { qname, qtype } = req;
  const index = state.index;
  // PTR names need not lie in the plugin's zones; anything else outside them is not ours.
  if (qtype !== 'PTR' && matchZone(qname, state.origins) === undefined) return next();

  let answer: readonly ResourceRecord[] = EMPTY;
  let entry: HostEntry | undefined;
  if (qtype === 'PTR') {
    const ptr = index.ptr.get(qname);
    // An unknown address always goes on down the chain, whatever fallthrough says (as CoreDNS).
    if (ptr === undefined) return next();
    answer = ptr;
  } else {
    entry = lookup(index, qname);
    if (qtype === 'A') answer = entry?.a ?? EMPTY;
    else if (qtype === 'AAAA') answer = entry?.aaaa ?? EMPTY;
    else if (entry !== undefined && state.fallUnsupported && fallsThrough(state.fall, qname)) return next();
  }

  if (answer.length === 0 && entry === undefined) {
    if (fallsThrough(state.fall, qname)) return next();
    // CoreDNS: NXDOMAIN would need an SOA, which a hosts file has not, so it says SERVFAIL.
    return makeReply(req.query, { rcode: Rcode.SERVFAIL });
  }
  // A known name asked for another type: NODATA (NOERROR, no records), authoritative.
  return makeReply(req.query, { aa: true, answer });
}
