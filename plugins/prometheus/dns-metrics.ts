// CoreDNS's DNS metrics (plugin/metrics/vars): names, labels, buckets, and the per-query series
// cache that keeps their cost on the hot path to a few array increments.
import type client from 'prom-client';
import { DURATION_BUCKETS } from '../../core/metrics.js';
import { CounterVec, HistogramVec, observe, registered } from './vector.js';

/** CoreDNS's size buckets (request and response). */
export const SIZE_BUCKETS = [0, 100, 200, 300, 400, 511, 1023, 2047, 4095, 8291, 16e3, 32e3, 48e3, 64e3];

/** The query types CoreDNS counts by name; every other type is "other". */
const MONITORED_TYPES = [
  'A', 'AAAA', 'CNAME', 'DNSKEY', 'DS', 'MX', 'NSEC3', 'NSEC', 'NS', 'PTR', 'RRSIG', 'SOA', 'SRV', 'TXT', 'HTTPS', 'IXFR', 'AXFR', 'ANY',
];
/** Each monitored type's index; "other" is MONITORED_TYPES.length. */
const TYPE_INDEX = new Map(MONITORED_TYPES.map((t, i) => [t, i]));
export function typeLabel(qtype: string): string {
  return TYPE_INDEX.has(qtype) ? qtype : 'other';
}

/** miekg/dns RcodeToString; unknown codes are written as their number, as CoreDNS's rcode.ToString does. */
const RCODES: Record<number, string> = {
  0: 'NOERROR', 1: 'FORMERR', 2: 'SERVFAIL', 3: 'NXDOMAIN', 4: 'NOTIMP', 5: 'REFUSED', 6: 'YXDOMAIN', 7: 'YXRRSET', 8: 'NXRRSET',
  9: 'NOTAUTH', 10: 'NOTZONE', 16: 'BADSIG', 17: 'BADKEY', 18: 'BADTIME', 19: 'BADMODE', 20: 'BADNAME', 21: 'BADALG', 22: 'BADTRUNC',
  23: 'BADCOOKIE',
};
export function rcodeLabel(rcode: number): string {
  return RCODES[rcode] ?? String(rcode);
}

/** The zone label: the matched zone with its trailing dot ('.' for the root). */
export function zoneLabel(zone: string): string {
  return zone === '' ? '.' : `${zone}.`;
}

export interface DnsVectors {
  readonly requests: CounterVec;
  readonly requestDo: CounterVec;
  readonly requestSize: HistogramVec;
  readonly responseSize: HistogramVec;
  readonly duration: HistogramVec;
  readonly responses: CounterVec;
}

/** The vectors in `registry`, created on first use. */
export function dnsVectors(registry: client.Registry): DnsVectors {
  return {
    requests: registered(registry, 'coredns_dns_requests_total', () =>
      new CounterVec('coredns_dns_requests_total', 'Counter of DNS requests made per zone, protocol and family.', ['server', 'zone', 'view', 'proto', 'family', 'type'])),
    requestDo: registered(registry, 'coredns_dns_do_requests_total', () =>
      new CounterVec('coredns_dns_do_requests_total', 'Counter of DNS requests with DO bit set per zone.', ['server', 'zone', 'view'])),
    requestSize: registered(registry, 'coredns_dns_request_size_bytes', () =>
      new HistogramVec('coredns_dns_request_size_bytes', 'Size of the EDNS0 UDP buffer in bytes (64K for TCP) per zone and protocol.', ['server', 'zone', 'view', 'proto'], SIZE_BUCKETS)),
    responseSize: registered(registry, 'coredns_dns_response_size_bytes', () =>
      new HistogramVec('coredns_dns_response_size_bytes', 'Size of the returned response in bytes.', ['server', 'zone', 'view', 'proto'], SIZE_BUCKETS)),
    duration: registered(registry, 'coredns_dns_request_duration_seconds', () =>
      new HistogramVec('coredns_dns_request_duration_seconds', 'Histogram of the time (in seconds) each request took per zone.', ['server', 'zone', 'view', 'type'], DURATION_BUCKETS)),
    responses: registered(registry, 'coredns_dns_responses_total', () =>
      new CounterVec('coredns_dns_responses_total', 'Counter of response status codes.', ['server', 'zone', 'view', 'rcode', 'plugin'])),
  };
}

// A series' slots in its Float64Array: the two counters, then the three histograms (vector.ts's Source).
const REQUESTS = 0;
const REQUEST_DO = 1;
const REQUEST_SIZE = 2;
const RESPONSE_SIZE = REQUEST_SIZE + SIZE_BUCKETS.length + 3;
const DURATION = RESPONSE_SIZE + SIZE_BUCKETS.length + 3;
const SLOTS = DURATION + DURATION_BUCKETS.length + 3;
/** responses_total keeps a slot per rcode below this for each plugin; larger (extended) ones one array each. */
const COMMON_RCODES = 24;

/**
 * What one kind of query (server, zone, proto, family, type) counts, in one Float64Array: under load
 * each separate object a query touched was a likely CPU cache miss. The vectors add up every series of
 * a label tuple when scraped.
 */
export class Series {
  readonly #counts = new Float64Array(SLOTS);
  /** responses_total slots by plugin, indexed by rcode (below COMMON_RCODES). */
  readonly #responses = new Map<string, Float64Array>();
  /** responses_total of the rarer rcodes past those, by plugin and rcode. */
  readonly #rareResponses = new Map<string, Float64Array>();
  /** The plugin that answered last, and its slots: mostly the same plugin answers a series' queries. */
  #lastPlugin = '';
  #lastByRcode: Float64Array | undefined;

  constructor(private readonly v: DnsVectors, private readonly server: string, private readonly zone: string, proto: string, family: string, type: string) {
    const view = '';
    const counts = this.#counts;
    v.requests.attach([server, zone, view, proto, family, type], counts, REQUESTS);
    v.requestDo.attach([server, zone, view], counts, REQUEST_DO);
    v.requestSize.attach([server, zone, view, proto], counts, REQUEST_SIZE);
    v.responseSize.attach([server, zone, view, proto], counts, RESPONSE_SIZE);
    v.duration.attach([server, zone, view, type], counts, DURATION);
  }

  request(size: number, dnssecOk: boolean): void {
    const counts = this.#counts;
    counts[REQUESTS]!++;
    if (dnssecOk) counts[REQUEST_DO]!++;
    observe(counts, REQUEST_SIZE, SIZE_BUCKETS, size);
  }

  /** The reply: its time (seconds), size, rcode and the plugin that wrote it ('' for the server). */
  response(durationS: number, size: number, rcode: number, plugin: string): void {
    const counts = this.#counts;
    observe(counts, DURATION, DURATION_BUCKETS, durationS);
    observe(counts, RESPONSE_SIZE, SIZE_BUCKETS, size);
    let byRcode = this.#lastByRcode;
    if (byRcode === undefined || plugin !== this.#lastPlugin) {
      byRcode = this.#responses.get(plugin);
      if (!byRcode) this.#responses.set(plugin, (byRcode = new Float64Array(COMMON_RCODES)));
      this.#lastPlugin = plugin;
      this.#lastByRcode = byRcode;
    }
    if (rcode >= COMMON_RCODES) return this.#rareRcode(rcode, plugin);
    // Exported from its first count on, as CoreDNS exports only the rcodes it has seen.
    if (byRcode[rcode]!++ === 0) this.v.responses.attach([this.server, this.zone, '', rcodeLabel(rcode), plugin], byRcode, rcode);
  }

  /** An extended rcode (from EDNS) past the common slots: rare, a one-slot array each. */
  #rareRcode(rcode: number, plugin: string): void {
    const key = `${plugin}\u0000${rcode}`;
    let slot = this.#rareResponses.get(key);
    if (!slot) {
      this.#rareResponses.set(key, (slot = new Float64Array(1)));
      this.v.responses.attach([this.server, this.zone, '', rcodeLabel(rcode), plugin], slot, 0);
    }
    slot[0]!++;
  }
}

const CACHES = new WeakMap<CounterVec, SeriesCache>();

/**
 * Series by server, zone, then a slot for (type label, proto, family): every label is from a small,
 * fixed set, and a query's series is found without building a key.
 */
export class SeriesCache {
  readonly #map = new Map<string, Map<string, Series[]>>();
  private constructor(private readonly v: DnsVectors) {}

  /**
   * The series of these vectors, shared by every prometheus plugin that counts in them (server blocks,
   * and a reload's new instances): a series attaches its slots once, and its counts carry on.
   */
  static of(v: DnsVectors): SeriesCache {
    let cache = CACHES.get(v.requests);
    if (cache === undefined) CACHES.set(v.requests, (cache = new SeriesCache(v)));
    return cache;
  }

  /** The series of the server and zone asked last: a block's queries mostly come in on one listener. */
  #lastServer = '';
  #lastZone = '';
  #lastSlots: Series[] | undefined;
  /** The type asked last and its index: queries mostly ask one or two types. */
  #lastType = 'A';
  #lastTypeIndex = 0;

  get(server: string, zone: string, proto: string, family: 4 | 6, qtype: string): Series {
    let slots = this.#lastSlots;
    if (slots === undefined || server !== this.#lastServer || zone !== this.#lastZone) {
      let zones = this.#map.get(server);
      if (!zones) this.#map.set(server, (zones = new Map()));
      slots = zones.get(zone);
      if (!slots) zones.set(zone, (slots = []));
      this.#lastServer = server;
      this.#lastZone = zone;
      this.#lastSlots = slots;
    }
    if (qtype !== this.#lastType) {
      this.#lastType = qtype;
      this.#lastTypeIndex = TYPE_INDEX.get(qtype) ?? MONITORED_TYPES.length;
    }
    const slot = (this.#lastTypeIndex * 2 + (proto === 'tcp' ? 1 : 0)) * 2 + (family === 6 ? 1 : 0);
    return (slots[slot] ??= new Series(this.v, server, zoneLabel(zone), proto, family === 6 ? '2' : '1', typeLabel(qtype)));
  }
}
