// The hosts handler: A, AAAA and PTR answers from the prebuilt index; synchronous on purpose (hot path).
import { makeReply, Rcode, type Reply, type ResourceRecord, type WireAnswer } from '../../core/message.js';
import { SLOW_PATH, type Next, type Request } from '../../core/plugin.js';
import { wireAnswer } from '../../core/wire.js';
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

/** The PTR answers kept as bytes for the fast path, for one index (a reload starts afresh); A and AAAA live on the entries. */
export class PtrAnswers {
  #index: HostsIndex | undefined;
  readonly #byName = new Map<string, WireAnswer>();

  for(index: HostsIndex): Map<string, WireAnswer> {
    if (index !== this.#index) {
      this.#index = index;
      this.#byName.clear();
    }
    return this.#byName;
  }
}

/**
 * serveHosts on the fast path: an A, AAAA or PTR answer from a name of the file, as bytes made on its
 * first query. Whatever serveHosts would pass on is passed on; the rest (wildcards, NODATA, SERVFAIL)
 * takes the ordinary path. Kept answers hold only names of the index, so they are bounded by it.
 */
export function fastHosts(state: HostsState, ptrAnswers: PtrAnswers, req: Request): WireAnswer | undefined | typeof SLOW_PATH {
  const { qname, qtype } = req;
  const index = state.index;
  if (qtype === 'PTR') {
    const ptr = index.ptr.get(qname);
    if (ptr === undefined) return undefined;
    const kept = ptrAnswers.for(index);
    let answer = kept.get(qname);
    if (answer === undefined) kept.set(qname, (answer = wireAnswer(makeReply(req.query, { aa: true, answer: ptr }))));
    return answer;
  }
  if (matchZone(qname, state.origins) === undefined) return undefined;
  const entry = index.names.get(qname);
  if (entry === undefined) {
    // A wildcard may match (the ordinary path instantiates it); else nothing here: passed on when falling through.
    if (index.wildcards) return SLOW_PATH;
    return fallsThrough(state.fall, qname) ? undefined : SLOW_PATH;
  }
  // The kept bytes first: once made, a hit reads nothing else of the entry (each object is a likely CPU cache miss under load).
  if (qtype === 'A') {
    if (entry.fastA !== undefined) return entry.fastA;
    if (entry.a.length > 0) return (entry.fastA = wireAnswer(makeReply(req.query, { aa: true, answer: entry.a })));
  } else if (qtype === 'AAAA') {
    if (entry.fastAAAA !== undefined) return entry.fastAAAA;
    if (entry.aaaa.length > 0) return (entry.fastAAAA = wireAnswer(makeReply(req.query, { aa: true, answer: entry.aaaa })));
  }
  if (qtype !== 'A' && qtype !== 'AAAA' && state.fallUnsupported && fallsThrough(state.fall, qname)) return undefined;
  return SLOW_PATH; // NODATA: the ordinary path makes it
}
