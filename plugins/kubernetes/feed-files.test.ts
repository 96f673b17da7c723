import { expect } from 'chai';
import { mkdtemp, rm, writeFile, rename } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { memoryLogger } from '../../core/log.js';
import { parseManifests, startFileFeed } from './feed-files.js';
import type { Feed } from './feed-api.js';
import { ServiceIndex, type IndexChange } from './service-index.js';

async function until(cond: () => boolean, what: string, timeoutMs = 5000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!cond()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

const SERVICES = `
apiVersion: v1
kind: Service
metadata: { name: db, namespace: default, labels: { tier: data } }
spec: { clusterIP: 192.168.20.3, clusterIPs: [192.168.20.3], ports: [{ name: pg, port: 5432, protocol: TCP }] }
---
apiVersion: v1
kind: Service
metadata: { name: web, namespace: default }
spec: { clusterIP: None, ports: [{ name: http, port: 80 }] }
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: { name: web-1, namespace: default, labels: { kubernetes.io/service-name: web } }
addressType: IPv4
endpoints:
  - { addresses: [10.1.0.1], hostname: web-0 }
ports: [{ name: http, port: 80, protocol: TCP }]
`;

describe('kubernetes manifests feed', () => {
  let dir: string;
  let feed: Feed | undefined;
  beforeEach(async () => {
    dir = await mkdtemp(join(tmpdir(), 'nodens-k8s-'));
  });
  afterEach(async () => {
    await feed?.stop();
    feed = undefined;
    await rm(dir, { recursive: true, force: true });
  });

  it('parses multi-document YAML, JSON, and kubectl List dumps', () => {
    expect(parseManifests(SERVICES).map((o) => o.kind)).to.deep.equal(['Service', 'Service', 'EndpointSlice']);
    const list = JSON.stringify({ apiVersion: 'v1', kind: 'List', items: [{ kind: 'Service', metadata: { name: 'a' } }, { kind: 'Namespace', metadata: { name: 'n' } }] });
    expect(parseManifests(list).map((o) => o.kind)).to.deep.equal(['Service', 'Namespace']);
    expect(() => parseManifests('kind: Service\n  bad: [indent')).to.throw();
  });

  it('loads a folder, implies namespaces, and syncs', async () => {
    await writeFile(join(dir, 'svc.yaml'), SERVICES);
    await writeFile(join(dir, 'ignored.txt'), 'kind: Service\nmetadata: { name: nope }\n');
    const index = new ServiceIndex();
    feed = startFileFeed(index, { paths: [dir], pollMs: 0 }, memoryLogger());
    expect(await feed.waitForSync(2000)).to.equal(true);
    expect(index.size).to.deep.equal({ services: 2, endpointSlices: 1, namespaces: 1, pods: 0 });
    expect(index.entry('db', 'default')!.v4).to.deep.equal(['192.168.20.3']);
    expect(index.entry('web', 'default')!.byLabel.get('web-0')).to.equal('10.1.0.1');
    expect(index.hasNamespace('default')).to.equal(true);
  });

  it('applies edits as incremental add/update/delete events (fs.watch, file replaced by rename)', async () => {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, SERVICES);
    const index = new ServiceIndex();
    const changes: IndexChange[] = [];
    index.onChange((c) => changes.push(c));
    feed = startFileFeed(index, { paths: [file], pollMs: 0 }, memoryLogger());
    await feed.waitForSync(2000);
    changes.length = 0;
    // An editor-style save: write a new file and rename it over the old one.
    const edited = SERVICES.replace('192.168.20.3, clusterIPs: [192.168.20.3]', '192.168.20.4, clusterIPs: [192.168.20.4]').split('---').slice(0, 1).join('---');
    await writeFile(`${file}.tmp`, edited);
    await rename(`${file}.tmp`, file);
    await until(() => index.entry('web', 'default') === undefined, 'the removed service to go');
    expect(index.entry('db', 'default')!.v4).to.deep.equal(['192.168.20.4']);
    expect(changes.map((c) => `${c.kind} ${c.type} ${c.name}`).sort()).to.deep.equal(['endpoints delete web-1', 'service delete web', 'service update db']);
  });

  it('keeps the previous objects of a file that fails to parse, and picks up a fixed file by polling', async () => {
    const file = join(dir, 'cluster.yaml');
    await writeFile(file, SERVICES);
    const index = new ServiceIndex();
    const logger = memoryLogger();
    feed = startFileFeed(index, { paths: [join(dir, 'nothing-here.yaml'), file], pollMs: 50 }, logger);
    await feed.waitForSync(2000);
    expect(logger.lines.some((l) => l.includes('cannot read') && l.includes('nothing-here.yaml'))).to.equal(true);
    await writeFile(file, 'kind: Service\n  bad: [indent');
    await until(() => logger.lines.some((l) => l.includes('keeping its previous objects')), 'the parse error');
    expect(index.entry('db', 'default')).to.not.equal(undefined);
    await writeFile(file, SERVICES.replace('name: db,', 'name: db2,'));
    await until(() => index.entry('db2', 'default') !== undefined, 'the fixed file');
    expect(index.entry('db', 'default')).to.equal(undefined);
  });

  it('filters by labels and namespace_labels, and skips slices with noendpoints', async () => {
    await writeFile(join(dir, 'a.yaml'), `${SERVICES}\n---\napiVersion: v1\nkind: Namespace\nmetadata: { name: default, labels: { team: a } }\n`);
    const index = new ServiceIndex();
    feed = startFileFeed(index, { paths: [dir], pollMs: 0, labels: 'tier=data', endpoints: false }, memoryLogger());
    await feed.waitForSync(2000);
    expect(index.size.services).to.equal(1);
    expect(index.size.endpointSlices).to.equal(0);
    await feed.stop();
    const index2 = new ServiceIndex();
    feed = startFileFeed(index2, { paths: [dir], pollMs: 0, namespaceLabels: 'team=b' }, memoryLogger());
    await feed.waitForSync(2000);
    expect(index2.hasNamespace('default')).to.equal(false);
  });

  it('skips a malformed object with its file and line, keeps the other objects of the file, and says it once', async () => {
    const file = join(dir, 'cluster.yaml');
    const bad = [
      '---', 'kind: Service', 'metadata: { name: broken, namespace: default }', 'spec: { clusterIP: 10.0.0.300 }',
      '---', 'kind: EndpointSlice', 'metadata: { name: e, namespace: default }', 'endpoints: [{ addresses: 7 }]',
      '---', 'metadata: { name: kindless }', '',
    ].join('\n');
    await writeFile(file, `${SERVICES}${bad}`);
    const index = new ServiceIndex();
    const logger = memoryLogger();
    const counted: string[] = [];
    feed = startFileFeed(index, { paths: [file], pollMs: 30, onMalformed: (r) => counted.push(r) }, logger);
    expect(await feed.waitForSync(2000)).to.equal(true);
    expect(index.entry('db', 'default')!.v4).to.deep.equal(['192.168.20.3']);
    expect(index.entry('broken', 'default')).to.equal(undefined);
    const firstLine = SERVICES.split('\n').length;
    const warned = logger.lines.filter((l) => l.includes('skipped malformed manifest'));
    expect(warned).to.deep.equal([
      `[WARNING] skipped malformed manifest: ${file}:${firstLine}: $ ("Service" "broken"): spec.clusterIP: not an IP address: "10.0.0.300"`,
      `[WARNING] skipped malformed manifest: ${file}:${firstLine + 4}: $ ("EndpointSlice" "e"): endpoints[0].addresses: expected a list, got number`,
      `[WARNING] skipped malformed manifest: ${file}:${firstLine + 8}: $ (undefined "kindless"): kind: expected a string, got undefined`,
    ]);
    expect(counted).to.deep.equal(['services', 'endpointslices', 'manifest']);
    // A reload of the file (another object added) does not say it again.
    await writeFile(file, `${SERVICES}${bad}---\nkind: Service\nmetadata: { name: more, namespace: default }\nspec: { clusterIP: 10.0.0.9 }\n`);
    await until(() => index.entry('more', 'default') !== undefined, 'the reload');
    expect(counted).to.have.length(3);
  });
});
