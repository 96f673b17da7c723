// Query names relative to a zone, read the way CoreDNS's parseRequest reads them:
// `_port._proto.svc.ns.svc`, `ep.svc.ns.svc`, `svc.ns.svc`, `ns.svc`, `a-b-c-d.ns.pod`.
import { isIPv4, isIPv6 } from 'node:net';
import { canonicalIP } from '../../core/ip.js';

export interface RecordRequest {
  readonly podOrSvc: 'svc' | 'pod';
  readonly namespace: string;
  /** '' when the name stops at the namespace. */
  readonly service: string;
  readonly endpoint: string;
  readonly port: string;
  readonly protocol: string;
}

/** 'apex': the zone, `svc.ZONE` or `pod.ZONE` (NODATA); 'invalid': a shape that cannot exist (NXDOMAIN). */
export type ParsedName = RecordRequest | 'apex' | 'invalid';

const stripUnderscore = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);

/** `rel` is the query name with the zone removed ('' at the apex), lower-case. */
export function parseName(rel: string): ParsedName {
  if (rel === '' || rel === 'svc' || rel === 'pod') return 'apex';
  const segs = rel.split('.');
  let last = segs.length - 1;
  const podOrSvc = segs[last];
  if (podOrSvc !== 'svc' && podOrSvc !== 'pod') return 'invalid';
  const r = { podOrSvc, namespace: segs[--last]!, service: '', endpoint: '', port: '', protocol: '' } as {
    -readonly [K in keyof RecordRequest]: RecordRequest[K];
  };
  if (--last < 0) return r;
  r.service = segs[last]!;
  if (--last < 0) return r;
  if (last === 0) {
    r.endpoint = segs[0]!;
    return r;
  }
  if (last === 1) {
    r.protocol = stripUnderscore(segs[1]!);
    r.port = stripUnderscore(segs[0]!);
    return r;
  }
  return 'invalid';
}

/**
 * The name an endpoint address is known by: its hostname, else (endpoint_pod_names) its pod name when that
 * fits a label; '' for none, when its label is the dashed address (dashedIP), derived when read.
 */
export function endpointName(hostname: string | undefined, podName: string | undefined, podNames: boolean): string {
  if (hostname) return hostname;
  if (podNames && podName && podName.length < 64) return podName;
  return '';
}

/** 10.0.0.1 → 10-0-0-1; 5678:abcd::1 → 5678-abcd--1; fd00:45:1:: → fd00-45-1--0 (CoreDNS's endpointHostname: a label cannot end in '-'). */
export function dashedIP(ip: string): string {
  if (ip.includes('.')) return ip.replaceAll('.', '-');
  const dashed = ip.replaceAll(':', '-');
  return dashed.endsWith('-') ? `${dashed}0` : dashed;
}

/** The address in a pod name (`1-2-3-4`, `fd00--1`), canonical, or undefined when it is not one. */
export function podNameIP(label: string): string | undefined {
  const dashes = label.split('-').length - 1;
  const ip = dashes === 3 && !label.includes('--') ? label.replaceAll('-', '.') : label.replaceAll('-', ':');
  if (!isIPv4(ip) && !isIPv6(ip)) return undefined;
  return canonicalIP(ip);
}
