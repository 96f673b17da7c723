// The records local answers with (CoreDNS's plugin/local: one week TTL, SOA localhost. root.localhost.).
import type { AAAARecord, ARecord, NameRecord, SOARecord } from 'nodens';

export const LOCAL_TTL = 604800;

export function localhostSOA(origin: string): SOARecord {
  return {
    name: origin, ttl: LOCAL_TTL, class: 'IN', type: 'SOA',
    data: { mname: 'localhost', rname: 'root.localhost', serial: 1, refresh: 0, retry: 0, expire: 0, minimum: LOCAL_TTL },
  };
}

export function localhostNS(origin: string): NameRecord {
  return { name: origin, ttl: LOCAL_TTL, class: 'IN', type: 'NS', data: 'localhost' };
}

/** 127.0.0.1 for A, ::1 for AAAA, nothing for other types. */
export function loopbackRecord(name: string, qtype: string): ARecord | AAAARecord | undefined {
  if (qtype === 'A') return { name, ttl: LOCAL_TTL, class: 'IN', type: 'A', data: '127.0.0.1' };
  if (qtype === 'AAAA') return { name, ttl: LOCAL_TTL, class: 'IN', type: 'AAAA', data: '::1' };
  return undefined;
}
