// The data a benchmark run serves and asks for: a 1,000-name hosts file, 5,000 Services with 50,000
// endpoints as manifests, and dnsperf query files for each.
import fs from 'node:fs';
import path from 'node:path';

export interface BenchData {
  readonly hostsFile: string;
  readonly hostsQueries: string;
  /** Names dnsmasq answers with --address=/fwd.test/...: the forward and cache benchmarks ask these. */
  readonly forwardQueries: string;
  readonly k8sManifests: string;
  readonly k8sQueries: string;
}

export const NAMES = 1000;
export const SERVICES = 5000;
export const ENDPOINTS_PER_SERVICE = 10;

export function writeData(dir: string): BenchData {
  const hosts: string[] = [];
  const hostsQ: string[] = [];
  const fwdQ: string[] = [];
  for (let i = 0; i < NAMES; i++) {
    hosts.push(`10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255} host-${i}.bench.test`);
    hostsQ.push(`host-${i}.bench.test A`);
    fwdQ.push(`name-${i}.fwd.test A`);
  }
  const items: unknown[] = [];
  const k8sQ: string[] = [];
  for (let s = 0; s < SERVICES; s++) {
    const ns = `ns-${s % 50}`;
    const name = `svc-${s}`;
    const clusterIP = `10.96.${(s >> 8) & 255}.${s & 255}`;
    items.push({
      apiVersion: 'v1', kind: 'Service', metadata: { name, namespace: ns, resourceVersion: '1' },
      spec: { type: 'ClusterIP', clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80, protocol: 'TCP' }] },
    });
    items.push({
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice',
      metadata: { name: `${name}-abcde`, namespace: ns, resourceVersion: '1', labels: { 'kubernetes.io/service-name': name } },
      addressType: 'IPv4', ports: [{ name: 'http', port: 8080, protocol: 'TCP' }],
      endpoints: Array.from({ length: ENDPOINTS_PER_SERVICE }, (_, e) => ({
        addresses: [`10.${100 + (s >> 12)}.${(s >> 4) & 255}.${((s & 15) << 4) | e}`], conditions: { ready: true },
      })),
    });
    if (s < NAMES) k8sQ.push(`${name}.${ns}.svc.cluster.local A`);
  }
  for (let n = 0; n < 50; n++) items.push({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: `ns-${n}`, resourceVersion: '1' } });
  const file = (name: string, text: string) => {
    const p = path.join(dir, name);
    fs.writeFileSync(p, text);
    return p;
  };
  return {
    hostsFile: file('hosts', `${hosts.join('\n')}\n`),
    hostsQueries: file('hosts.queries', `${hostsQ.join('\n')}\n`),
    forwardQueries: file('forward.queries', `${fwdQ.join('\n')}\n`),
    k8sManifests: file('cluster.json', JSON.stringify({ apiVersion: 'v1', kind: 'List', items })),
    k8sQueries: file('k8s.queries', `${k8sQ.join('\n')}\n`),
  };
}
