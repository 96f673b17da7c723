// The amplification section of `npm run bench`: reply bytes / query bytes over UDP with the defaults, for
// the cluster Corefile's plugins and a query mix that includes a headless Service with 1,000 endpoints;
// and what ratelimit's defaults leave of it. In process (DnsServer.inject), so it needs no dnsperf.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../../core/create.js';
import { createLogger } from '../../core/log.js';
import { makeQuery, type Edns } from '../../core/message.js';
import { encodeMessage } from '../../core/wire.js';
import { DEFAULTS as RRL } from '../../plugins/ratelimit/setup.js';

const HEADLESS_ENDPOINTS = 1000;

function manifests(): string {
  const ports = [{ name: 'http', port: 80, protocol: 'TCP' }];
  const items: unknown[] = [
    { apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'web', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: '10.96.0.20', clusterIPs: ['10.96.0.20'], ports } },
    { apiVersion: 'v1', kind: 'Service', metadata: { name: 'many', namespace: 'default' }, spec: { type: 'ClusterIP', clusterIP: 'None', clusterIPs: ['None'], ports } },
    {
      apiVersion: 'discovery.k8s.io/v1', kind: 'EndpointSlice', metadata: { name: 'many-1', namespace: 'default', labels: { 'kubernetes.io/service-name': 'many' } },
      addressType: 'IPv4', ports,
      endpoints: Array.from({ length: HEADLESS_ENDPOINTS }, (_, i) => ({ addresses: [`10.1.${i >> 8}.${i & 255}`], hostname: `pod-${i}`, conditions: { ready: true } })),
    },
  ];
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

const MIX: [string, string][] = [
  ['web.default.svc.cluster.local', 'A'],
  ['many.default.svc.cluster.local', 'A'],
  ['many.default.svc.cluster.local', 'SRV'],
  ['_http._tcp.many.default.svc.cluster.local', 'SRV'],
  ['nothere.default.svc.cluster.local', 'A'],
  ['dns-version.cluster.local', 'TXT'],
];
const OFFERS: [string, Edns | undefined][] = [
  ['no EDNS', undefined],
  ['EDNS 1232', { udpSize: 1232, do: false, version: 0 }],
  ['EDNS 4096', { udpSize: 4096, do: false, version: 0 }],
  ['EDNS 65535', { udpSize: 65535, do: false, version: 0 }],
];

export async function runAmplificationBench(): Promise<void> {
  const dir = await mkdtemp(join(tmpdir(), 'nodens-amp-'));
  const file = join(dir, 'cluster.json');
  await writeFile(file, manifests());
  // Corefile.example's DNS plugins (no forward: nothing leaves the process).
  const server = await createServer({
    corefile: `.:0 {\n  errors\n  kubernetes cluster.local in-addr.arpa ip6.arpa {\n    manifests ${file}\n    pods insecure\n    fallthrough in-addr.arpa ip6.arpa\n    ttl 30\n  }\n  cache 30\n  loadbalance\n}\n`,
    defaultBind: ['127.0.0.1'], logger: createLogger({ sink: { write: () => {} } }),
  });
  try {
    console.log(`\n## amplification: UDP reply bytes / query bytes with the defaults (Corefile.example's DNS plugins, a headless Service with ${HEADLESS_ENDPOINTS} endpoints)`);
    console.log(`| question | ${OFFERS.map(([o]) => o).join(' | ')} |\n|---|${OFFERS.map(() => '---:').join('|')}|`);
    let worst = { factor: 0, what: '', reply: 0 };
    for (const [name, type] of MIX) {
      const cells: string[] = [];
      for (const [offer, edns] of OFFERS) {
        const query = encodeMessage(makeQuery(name, type, { id: 1, ...(edns ? { edns } : {}) }));
        const reply = (await server.inject(query, { transport: 'udp' }))!;
        const factor = reply.length / query.length;
        cells.push(`${query.length} → ${reply.length} (${factor.toFixed(1)}×)${(reply[2]! & 0x02) !== 0 ? ' TC' : ''}`);
        if (factor > worst.factor) worst = { factor, what: `${type} ${name}, ${offer}`, reply: reply.length };
      }
      console.log(`| ${type} ${name} | ${cells.join(' | ')} |`);
    }
    console.log(`largest amplification with the defaults: ${worst.factor.toFixed(1)}× (${worst.what}: ${worst.reply} bytes)`);
    const perSecond = RRL.responsesPerSecond * worst.reply;
    console.log(`with ratelimit's defaults (${RRL.responsesPerSecond} responses/s per /${RRL.ipv4PrefixLength}, slip ${RRL.slip}), a victim network receives at most ${(perSecond / 1024).toFixed(1)} KiB/s of full answers, plus one header-sized TC=1 reply per ${RRL.slip} further queries`);
  } finally {
    await server.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (import.meta.url === `file://${process.argv[1]}`) await runAmplificationBench();
