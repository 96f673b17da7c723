// What k8s_external asks the kubernetes plugin (CoreDNS's plugin/kubernetes/external.go): the external
// addresses (externalIPs, load-balancer ingress) of `[endpoint.|_port._proto.]service.namespace` under an
// external zone, headless endpoints when asked, and this server's own external addresses for NS.
import { Rcode } from '../../core/message.js';
// The answer type is k8s_external's (CoreDNS: the external plugin defines what its source returns).
import type { ExternalAnswer } from '../k8s_external/k8s_external.js';
import { namespaceExposed, nsAddrs, type AnswerConfig } from './answers.js';
import { readyAddresses } from './records.js';

const strip = (s: string): string => (s.startsWith('_') ? s.slice(1) : s);
const matches = (want: string, have: string | undefined): boolean => want === '' || want === (have ?? '').toLowerCase();

/** CoreDNS's External: `base` is the query name without the external zone, lower-case. */
export function externalServices(cfg: AnswerConfig, base: string, headless: boolean): { services: ExternalAnswer[]; rcode: number } {
  const segs = base === '' ? [] : base.split('.');
  let last = segs.length - 1;
  if (last < 0) return { services: [], rcode: Rcode.SERVFAIL };
  const namespace = segs[last]!;
  if (!namespaceExposed(cfg, namespace)) return { services: [], rcode: Rcode.NXDOMAIN };
  if (--last < 0) return { services: [], rcode: Rcode.NOERROR };
  const service = segs[last--]!;
  let endpoint = '';
  let port = '';
  let protocol = '';
  if (last === 0) {
    endpoint = strip(segs[0]!);
    last--;
  } else if (last === 1) {
    protocol = strip(segs[1]!);
    port = strip(segs[0]!);
    last -= 2;
  }
  if (last !== -1) return { services: [], rcode: Rcode.NXDOMAIN };
  const entry = cfg.index.entry(service, namespace);
  const services: ExternalAnswer[] = [];
  if (!entry) return { services, rcode: Rcode.NXDOMAIN };
  const externalIPs = entry.externalIPs;
  const base0 = { service: entry.name, namespace: entry.namespace, ttl: cfg.ttl };
  if (headless && externalIPs.length === 0 && (entry.kind === 'Headless' || endpoint !== '')) {
    for (const a of readyAddresses(entry.slices)) {
      if (endpoint !== '' && a.label !== endpoint) continue;
      for (const p of a.ports) if (matches(port, p.name) && matches(protocol, p.protocol)) services.push({ ...base0, host: a.ip, port: p.port, label: a.label });
    }
  } else {
    for (const host of externalIPs) {
      for (const p of entry.ports) if (matches(port, p.name) && matches(protocol, p.protocol)) services.push({ ...base0, host, port: p.port, label: '' });
    }
  }
  return { services, rcode: services.length > 0 ? Rcode.NOERROR : Rcode.NXDOMAIN };
}

/** CoreDNS's ExternalAddress: the external IPs of the Service in front of this server, else its own addresses. */
export function externalAddresses(cfg: AnswerConfig): string[] {
  const out: string[] = [];
  for (const ip of cfg.localIPs()) {
    for (const e of cfg.index.endpointOwners(ip)) {
      for (const x of e.externalIPs) if (!out.includes(x) && /^[\d.:a-f]+$/i.test(x)) out.push(x);
    }
  }
  return out.length > 0 ? out : nsAddrs(cfg, '').map((a) => a.ip);
}
