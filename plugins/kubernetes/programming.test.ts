import { expect } from 'chai';
import { LAST_CHANGE_TRIGGER_TIME, trimEndpointSlice, trimService } from './objects.js';
import { ServiceIndex } from './service-index.js';

// coredns_kubernetes_dns_programming_duration_seconds: from a slice's last-change-trigger-time to the
// moment the index can answer for it.
describe('kubernetes DNS programming latency', () => {
  const service = (name: string, clusterIP: string) =>
    trimService({ metadata: { name, namespace: 'ns' }, spec: { clusterIP, clusterIPs: [clusterIP], ports: [{ name: 'http', port: 80 }] } });
  const slice = (svc: string, triggerTime?: string) => trimEndpointSlice({
    metadata: {
      name: `${svc}-abc`, namespace: 'ns', labels: { 'kubernetes.io/service-name': svc },
      ...(triggerTime ? { annotations: { [LAST_CHANGE_TRIGGER_TIME]: triggerTime } } : {}),
    },
    addressType: 'IPv4', endpoints: [{ addresses: ['10.244.0.5'], conditions: { ready: true } }], ports: [{ name: 'http', port: 8080 }],
  });

  const rows = [
    { name: 'a ClusterIP service', clusterIP: '10.96.0.10', kind: 'cluster_ip' },
    { name: 'a headless service', clusterIP: 'None', kind: 'headless_with_selector' },
  ] as const;
  for (const row of rows) {
    it(`is observed for ${row.name} as ${row.kind}, measured from the trigger time`, () => {
      const seen: [string, number][] = [];
      const index = new ServiceIndex({ onProgrammed: (kind, seconds) => seen.push([kind, seconds]) });
      index.apply('services', 'add', service('web', row.clusterIP));
      index.apply('endpointslices', 'add', slice('web', new Date(Date.now() - 2000).toISOString()));
      expect(seen).to.have.length(1);
      expect(seen[0]![0]).to.equal(row.kind);
      expect(seen[0]![1]).to.be.within(1.9, 3);
    });
  }

  it('is not observed for a slice without the annotation, nor for one whose service is unknown', () => {
    const seen: unknown[] = [];
    const index = new ServiceIndex({ onProgrammed: (...a) => seen.push(a) });
    index.apply('services', 'add', service('web', '10.96.0.10'));
    index.apply('endpointslices', 'add', slice('web'));
    index.apply('endpointslices', 'add', slice('ghost', new Date().toISOString()));
    expect(seen).to.deep.equal([]);
  });
});
