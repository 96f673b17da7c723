// kube2sky end to end: Services in the API stand-in → keys in a real etcd → dig answers from a
// server that has only the etcd plugin.
import { expect } from 'chai';
import type { Etcd3 } from 'etcd3';
import { once } from 'node:events';
import { memoryLogger } from '../../../core/log.js';
import { startServer, type TestServer } from '../../../core/testing.js';
import { startEtcd, type EtcdFixture } from '../../../test/fixtures/etcd.js';
import { FakeApiServer } from '../../../test/fixtures/k8s-api-server.js';
import { addWebAndDb, http80, namespace, service, slice } from '../../../test/fixtures/k8s-objects.js';
import { ServiceIndex } from '../../kubernetes/service-index.js';
import { createClient } from '../client.js';
import { runKube2Sky, type Kube2Sky, type Kube2SkyOptions } from './index.js';
import { ipLabel } from './records.js';
import { digUntil } from '../../../test/fixtures/dig-until.js';

const PREFIX = '/skydns/local/cluster/svc/';

/** Polls dig until its +short output is `want`, for at most `ms`. */
describe('kube2sky end to end', function () {
  this.timeout(60_000);
  let etcd: EtcdFixture;
  let api: FakeApiServer;
  let client: Etcd3;
  let dns: TestServer;
  const running: Kube2Sky[] = [];
  const logs = memoryLogger();

  /** k.idle(), bounded: a sync that never settles fails with its log instead of the test's timeout. */
  const settled = async (k: Kube2Sky, ms = 10_000): Promise<void> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`kube2sky not idle after ${ms} ms:\n${logs.lines.join('\n')}`)), ms);
    });
    try {
      await Promise.race([k.idle(), late]);
    } finally {
      clearTimeout(timer);
    }
  };

  const start = (extra: Partial<Kube2SkyOptions> = {}): Kube2Sky => {
    const k = runKube2Sky({
      etcd: { endpoints: [etcd.endpoint] },
      kubernetes: { endpoint: api.url, backoffInitialMs: 20, backoffMaxMs: 200 },
      resyncMs: 0,
      logger: logs,
      ...extra,
    });
    running.push(k);
    return k;
  };
  const stop = async (k: Kube2Sky): Promise<void> => {
    running.splice(running.indexOf(k), 1);
    await k.stop();
  };
  const keys = async (): Promise<Record<string, string>> => client.getAll().prefix(PREFIX).strings();

  before(async () => {
    etcd = await startEtcd();
    api = await FakeApiServer.start();
    client = createClient({ endpoints: [etcd.endpoint] });
    addWebAndDb(api);
    dns = await startServer(`cluster.local {\n  etcd {\n    endpoint ${etcd.endpoint}\n  }\n}\n`);
  });
  after(async () => {
    for (const k of running.splice(0)) await k.stop();
    await dns?.close();
    client?.close();
    await api?.close();
    await etcd?.close();
  });

  it('writes the cluster into etcd, served by a second server with only the etcd plugin', async () => {
    const k = start();
    await settled(k);
    const written = await keys();
    const web = ipLabel('10.96.0.10');
    expect(Object.keys(written).sort()).to.deep.equal([
      `${PREFIX}ns/db/_tcp/_pg/db-0`, `${PREFIX}ns/db/_tcp/_pg/db-1`, `${PREFIX}ns/db/db-0`, `${PREFIX}ns/db/db-1`,
      `${PREFIX}ns/web/${web}`, `${PREFIX}ns/web/_tcp/_http/${web}`,
    ].sort());
    expect(await digUntil(dns, ['web.ns.svc.cluster.local', 'A'], '10.96.0.10')).to.equal('10.96.0.10');
    expect(await digUntil(dns, ['db.ns.svc.cluster.local', 'A'], '10.244.0.5\n10.244.0.6')).to.equal('10.244.0.5\n10.244.0.6');
    expect(await digUntil(dns, ['db-1.db.ns.svc.cluster.local', 'A'], '10.244.0.6')).to.equal('10.244.0.6');
    expect(await digUntil(dns, ['_http._tcp.web.ns.svc.cluster.local', 'SRV'], `10 100 80 ${web}.web.ns.svc.cluster.local.`))
      .to.equal(`10 100 80 ${web}.web.ns.svc.cluster.local.`);
  });

  it('writes each Service in one transaction', async () => {
    const res = await client.getAll().prefix(`${PREFIX}ns/db/`).exec();
    const revisions = new Set(res.kvs.map((kv) => kv.mod_revision));
    expect(res.kvs).to.have.length(4);
    expect([...revisions]).to.have.length(1);
  });

  it('follows the cluster: a new Service, changed endpoints, a deleted Service', async () => {
    const k = running[0]!;
    const t0 = performance.now();
    api.add('services', service('ns', 'api', { clusterIPs: ['10.96.0.20'], ports: http80 }));
    expect(await digUntil(dns, ['api.ns.svc.cluster.local', 'A'], '10.96.0.20')).to.equal('10.96.0.20');
    const propagation = performance.now() - t0;
    expect(propagation, 'Service event → served through etcd (ms)').to.be.below(2000);

    api.update('endpointslices', slice('ns', 'db-abcde', 'db', [{ ip: '10.244.0.5', hostname: 'db-0' }, { ip: '10.244.0.7', hostname: 'db-2' }], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
    expect(await digUntil(dns, ['db.ns.svc.cluster.local', 'A'], '10.244.0.5\n10.244.0.7')).to.equal('10.244.0.5\n10.244.0.7');

    const deleted = once(k.sync, 'written');
    api.delete('services', api.get('services', 'ns', 'web')!);
    await deleted;
    await settled(k);
    expect(Object.keys(await keys()).some((key) => key.includes('/ns/web'))).to.equal(false);
    expect(await dns.dig(['web.ns.svc.cluster.local', 'A'])).to.match(/status: NXDOMAIN/);
  });

  it('is idempotent across restarts and repairs what changed while it was down', async () => {
    await stop(running[0]!);
    const before = await client.get('/').exec(); // the store's revision
    const again = start();
    const synced = once(again.sync, 'synced');
    await settled(again);
    expect((await synced)[0], 'services written after a restart with no change').to.equal(0);
    const after = await client.get('/').exec();
    expect(after.header.revision).to.equal(before.header.revision);

    await stop(again);
    api.delete('services', api.get('services', 'ns', 'api')!);
    await client.put(`${PREFIX}ns/stray/x`).value('{"host":"10.9.9.9"}').exec();
    const third = start();
    await settled(third);
    const left = Object.keys(await keys());
    expect(left.some((key) => key.includes('/ns/api/') || key.includes('/ns/stray/'))).to.equal(false);
    expect(left.some((key) => key.includes('/ns/db/'))).to.equal(true);
  });

  it('writes a Service larger than one transaction in chunks, completely', async () => {
    const index = new ServiceIndex();
    const eps = Array.from({ length: 30 }, (_, i) => ({ ip: `10.250.0.${i + 1}`, hostname: `p${i}` }));
    index.apply('services', 'add', service('big', 'many', { ports: http80 }));
    index.apply('endpointslices', 'add', slice('big', 'many-x', 'many', eps, http80));
    index.markSynced();
    const k = start({ index, maxTxnOps: 8 });
    await settled(k);
    const big = Object.keys(await client.getAll().prefix(`${PREFIX}big/`).strings());
    expect(big).to.have.length(60);
    await stop(k);
  });
});
