// CoreDNS's DNS metrics (plugin/metrics/vars): names, labels, buckets, and the per-query series
// cache that keeps their cost on the hot path to a map lookup and a few increments.
import type client from 'prom-client';
import { DURATION_BUCKETS } from '../../core/metrics.js';
import { CounterVec, HistogramVec, registered, type CounterCell, type HistogramCell } from './vector.js';

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

/** The cells one kind of query (server, zone, proto, family, type) updates. */
export class Series {
  readonly requests: CounterCell;
  readonly requestDo: CounterCell;
  readonly requestSize: HistogramCell;
  readonly responseSize: HistogramCell;
  readonly duration: HistogramCell;
  /** responses_total cells by plugin, then rcode (every rcode fits 12 bits). */
  readonly #responses = new Map<string, CounterCell[]>();
  /** The plugin that answered last, and its cells: mostly the same plugin answers a series' queries. */
  #lastPlugin = '';
  #lastByRcode: CounterCell[] | undefined;

  constructor(private readonly v: DnsVectors, private readonly server: string, private readonly zone: string, proto: string, family: string, type: string) {
    const view = '';
    this.requests = v.requests.cell([server, zone, view, proto, family, type]);
    this.requestDo = v.requestDo.cell([server, zone, view]);
    this.requestSize = v.requestSize.cell([server, zone, view, proto]);
    this.responseSize = v.responseSize.cell([server, zone, view, proto]);
    this.duration = v.duration.cell([server, zone, view, type]);
  }

  /** The responses_total cell of an rcode and the plugin that wrote the reply ('' for the server). */
  response(rcode: number, plugin: string): CounterCell {
    let byRcode = this.#lastByRcode;
    if (byRcode === undefined || plugin !== this.#lastPlugin) {
      byRcode = this.#responses.get(plugin);
      if (!byRcode) this.#responses.set(plugin, (byRcode = []));
      this.#lastPlugin = plugin;
      this.#lastByRcode = byRcode;
    }
    return (byRcode[rcode] ??= this.v.responses.cell([this.server, this.zone, '', rcodeLabel(rcode), plugin]));
  }
}

/**
 * Series by server, zone, then a slot for (type label, proto, family): every label is from a small,
 * fixed set, and a query's series is found without building a key.
 */
export class SeriesCache {
  readonly #map = new Map<string, Map<string, Series[]>>();
  constructor(private readonly v: DnsVectors) {}

  /** The series of the server and zone asked last: a block's queries mostly come in on one listener. */
  #lastServer = '';
  #lastZone = '';
  #lastSlots: Series[] | undefined;

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
    const slot = ((TYPE_INDEX.get(qtype) ?? MONITORED_TYPES.length) * 2 + (proto === 'tcp' ? 1 : 0)) * 2 + (family === 6 ? 1 : 0);
    return (slots[slot] ??= new Series(this.v, server, zoneLabel(zone), proto, family === 6 ? '2' : '1', typeLabel(qtype)));
  }
}
