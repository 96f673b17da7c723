// Reloads never lose data that was being served: a reload to an unreachable API endpoint keeps answering
// cluster names from the old data (and /ready stays 200), and a reload with the same source does not relist.
import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createServer } from '../core/create.js';
import { createLogger } from '../core/log.js';
import { Rcode } from '../core/message.js';
import type { DnsServer } from '../core/server.js';
import { queryServer } from '../core/testing.js';
import { freePort } from '../plugins/pkg/test-env.js';
import { FakeApiServer } from './fixtures/k8s-api-server.js';
import { http80, namespace, service } from './fixtures/k8s-objects.js';

const corefile = (endpoint: string, ready: number, extra = '') => `cluster.local {
    ready 127.0.0.1:${ready}
    kubernetes {
        endpoint ${endpoint}
        startup_timeout 300ms
${extra}    }
}
`;

async function readyStatus(port: number): Promise<[number, string]> {
  const res = await fetch(`http://127.0.0.1:${port}/ready`);
  return [res.status, await res.text()];
}

describe('reload with the kubernetes plugin', function () {
  this.timeout(20_000);
  let dir: string;
  let api: FakeApiServer;
  let server: DnsServer | undefined;
  const logs: string[] = [];

  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nodens-reload-k8s-'));
    api = await FakeApiServer.start();
    api.add('namespaces', namespace('prod'));
    api.add('services', service('prod', 'db', { clusterIPs: ['10.96.0.10'], ports: http80 }));
    logs.length = 0;
  });
  afterEach(async () => {
    await server?.close();
    server = undefined;
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(text: string, reloadReadyTimeoutMs = 5000): Promise<{ file: string; ask: (name: string) => Promise<{ rcode: number; ips: string[] }> }> {
    const file = join(dir, 'Corefile');
    await writeFile(file, text);
    server = await createServer({
      file, defaultPort: 0, defaultBind: ['127.0.0.1'], reloadReadyTimeoutMs,
      logger: createLogger({ sink: { write: (l) => logs.push(l) } }),
    });
    const port = server.addresses()[0]!.port;
    return {
      file,
      ask: async (name) => {
        const m = await queryServer('127.0.0.1', port, name);
        return { rcode: m.rcode, ips: m.answer.map((a) => String(a.data)) };
      },
    };
  }

  const lists = () => api.requests.filter((r) => !r.watch).length;

  it('keeps answering cluster names from the old data after a reload to an unreachable endpoint', async () => {
    const ready = await freePort();
    const { file, ask } = await start(corefile(api.url, ready));
    expect(await ask('db.prod.svc.cluster.local')).to.deep.equal({ rcode: Rcode.NOERROR, ips: ['10.96.0.10'] });
    const unreachable = `http://127.0.0.1:${await freePort()}`;
    await writeFile(file, corefile(unreachable, ready));
    const t0 = Date.now();
    await server!.reloadFromSource();
    // The old data is what a ready handler needs: the reload is not held back by the new source.
    expect(Date.now() - t0).to.be.lessThan(2000);
    expect(logs.some((l) => l.includes('reloaded'))).to.equal(true);
    expect(await ask('db.prod.svc.cluster.local')).to.deep.equal({ rcode: Rcode.NOERROR, ips: ['10.96.0.10'] });
    expect((await ask('none.prod.svc.cluster.local')).rcode).to.equal(Rcode.NXDOMAIN);
    expect(await readyStatus(ready)).to.deep.equal([200, 'OK']);
    // The old source keeps its watch open (its data is in use) and keeps it current.
    api.add('services', service('prod', 'late', { clusterIPs: ['10.96.0.11'], ports: http80 }));
    const end = Date.now() + 5000;
    while ((await ask('late.prod.svc.cluster.local')).rcode !== Rcode.NOERROR && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect(await ask('late.prod.svc.cluster.local')).to.deep.equal({ rcode: Rcode.NOERROR, ips: ['10.96.0.11'] });
  });

  it('moves to the new source once it syncs, and lets the old one go', async () => {
    const ready = await freePort();
    const { file, ask } = await start(corefile(api.url, ready));
    const other = await FakeApiServer.start();
    try {
      other.holdLists();
      other.add('namespaces', namespace('prod'));
      other.add('services', service('prod', 'db', { clusterIPs: ['10.96.0.99'], ports: http80 }));
      await writeFile(file, corefile(other.url, ready));
      await server!.reloadFromSource();
      expect((await ask('db.prod.svc.cluster.local')).ips).to.deep.equal(['10.96.0.10']);
      other.releaseLists();
      const end = Date.now() + 5000;
      while ((await ask('db.prod.svc.cluster.local')).ips[0] !== '10.96.0.99' && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
      expect((await ask('db.prod.svc.cluster.local')).ips).to.deep.equal(['10.96.0.99']);
      // The first API server is no longer watched by anyone.
      const closeBy = Date.now() + 5000;
      while (api.watchCount() > 0 && Date.now() < closeBy) await new Promise((r) => setTimeout(r, 20));
      expect(api.watchCount()).to.equal(0);
    } finally {
      await other.close();
    }
  });

  it('carries an unchanged source across a reload without a new list', async () => {
    const ready = await freePort();
    const { file, ask } = await start(corefile(api.url, ready));
    const before = lists();
    expect(before).to.be.greaterThan(0);
    // Another plugin changes; the kubernetes source does not.
    await writeFile(file, corefile(api.url, ready).replace('    ready', '    errors\n    ready'));
    await server!.reloadFromSource();
    expect(await ask('db.prod.svc.cluster.local')).to.deep.equal({ rcode: Rcode.NOERROR, ips: ['10.96.0.10'] });
    // The old generation closed: the shared feed must still be running, so new events still arrive.
    api.add('services', service('prod', 'late', { clusterIPs: ['10.96.0.12'], ports: http80 }));
    const end = Date.now() + 5000;
    while ((await ask('late.prod.svc.cluster.local')).rcode !== Rcode.NOERROR && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    expect((await ask('late.prod.svc.cluster.local')).ips).to.deep.equal(['10.96.0.12']);
    expect(lists()).to.equal(before);
    // A changed source (another label selector) is a new feed: it lists.
    await writeFile(file, corefile(api.url, ready, '        labels app=web\n'));
    await server!.reloadFromSource();
    const listed = Date.now() + 5000;
    while (lists() === before && Date.now() < listed) await new Promise((r) => setTimeout(r, 20));
    expect(lists()).to.be.greaterThan(before);
  });

  it('waits a bounded time for a plugin that is not ready and has no old data, then takes over', async () => {
    const ready = await freePort();
    const { file } = await start(`cluster.local {\n    ready 127.0.0.1:${ready}\n}\n`, 400);
    await writeFile(file, corefile(`http://127.0.0.1:${await freePort()}`, ready));
    const t0 = Date.now();
    await server!.reloadFromSource();
    expect(Date.now() - t0).to.be.within(300, 3000);
    expect(logs.some((l) => l.includes('reload: not ready yet: kubernetes; the new config takes over anyway'))).to.equal(true);
    expect(await readyStatus(ready)).to.deep.equal([503, 'kubernetes']);
  });
});
