// autopath bench (a script): queries per lookup of an external name for a pod in `shop` with and without
// autopath, and the QPS (dnsperf, from 127.0.0.1, a pod of `shop`) of autopath's path against plain answers.
//   node --import=tsx test/bench/autopath.ts [SECONDS]
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startServer } from '../../core/testing.js';
import { startDnsmasq } from '../fixtures/dnsmasq.js';
import { FakeApiServer } from '../fixtures/k8s-api-server.js';
import { http80, namespace, service } from '../fixtures/k8s-objects.js';
import type { KPod } from '../../plugins/kubernetes/objects.js';
import { dnsperf } from './dnsperf.js';

const seconds = Number(process.argv[2] ?? 5);
const dnsmasq = await startDnsmasq({ args: ['--address=/api.example.com/192.0.2.10'], probe: 'api.example.com' });
const api = await FakeApiServer.start();
api.add('namespaces', namespace('shop'), namespace('default'));
api.add('services', service('shop', 'cart', { clusterIPs: ['10.96.0.20'], ports: http80 }), service('default', 'db', { clusterIPs: ['10.96.0.30'], ports: http80 }));
api.add('pods', { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'client', namespace: 'shop' }, status: { podIP: '127.0.0.1', podIPs: [{ ip: '127.0.0.1' }] } } as KPod);
const corefile = (autopath: boolean) => `. {\n${autopath ? '  autopath @kubernetes\n' : ''}  kubernetes cluster.local {\n    endpoint ${api.url}\n    pods verified\n  }\n  forward . 127.0.0.1:${dnsmasq.port}\n}\n`;
const SEARCH = ['shop.svc.cluster.local', 'svc.cluster.local', 'cluster.local', ''];

try {
  for (const autopath of [false, true]) {
    const s = await startServer(corefile(autopath));
    try {
      // A stub resolver with ndots:5 tries each search name until one is not NXDOMAIN.
      let queries = 0;
      for (const suffix of SEARCH) {
        queries++;
        const m = await s.query(suffix ? `api.example.com.${suffix}` : 'api.example.com', 'A');
        if (m.rcode !== 3) break;
      }
      console.log(`autopath ${autopath ? 'on ' : 'off'}: ${queries} queries to resolve api.example.com from a pod in shop`);
      if (!autopath) continue;
      const rows: [string, string][] = [
        ['plain kubernetes answer (cart.shop.svc.cluster.local)', 'cart.shop.svc.cluster.local A'],
        ['autopath, in-cluster (db.default.shop.svc... → db.default.svc...)', 'db.default.shop.svc.cluster.local A'],
        ['autopath, external (api.example.com.shop.svc... → forward)', 'api.example.com.shop.svc.cluster.local A'],
      ];
      for (const [label, line] of rows) {
        const file = join(tmpdir(), `nodens-autopath-${process.pid}.txt`);
        writeFileSync(file, `${line}\n`);
        const r = await dnsperf({ port: s.port, queryFile: file, seconds });
        console.log(`${label.padEnd(70)} ${Math.round(r.qps).toString().padStart(7)} QPS  lost ${r.lostPct}%`);
      }
    } finally {
      await s.close();
    }
  }
} finally {
  await api.close();
  await dnsmasq.stop();
}
