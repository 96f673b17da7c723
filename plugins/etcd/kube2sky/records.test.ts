// kube2sky's record layout, and what the etcd plugin answers from it (no etcd, no API server).
import { expect } from 'chai';
import { messageOf } from '../../../core/message.js';
import { makeRequest, rrText, stubNext } from '../../../core/testing.js';
import { http80, service, slice } from '../../../test/fixtures/k8s-objects.js';
import { ServiceIndex } from '../../kubernetes/service-index.js';
import { EtcdHandler } from '../etcd.js';
import { parseService } from '../msg.js';
import { ServiceTree } from '../store.js';
import { ipLabel, ownerOf, serviceRecords, type RecordOptions } from './records.js';

const O: RecordOptions = { zone: 'cluster.local', path: '/skydns', ttl: 30 };

function indexOf(): ServiceIndex {
  const index = new ServiceIndex();
  index.apply('services', 'add', service('ns', 'web', { clusterIPs: ['10.0.0.10'], ports: [...http80, { name: 'dns', port: 53, protocol: 'UDP' }, { port: 9000, protocol: 'TCP' }] }));
  index.apply('services', 'add', service('ns', 'db', { ports: [{ name: 'pg', port: 5432, protocol: 'TCP' }] }));
  index.apply('endpointslices', 'add', slice('ns', 'db-x1', 'db', [
    { ip: '10.1.0.1', hostname: 'db-0' }, { ip: '10.1.0.2' }, { ip: '10.1.0.3', ready: false },
    { ip: '10.1.0.4', hostname: 'twin' }, { ip: '10.1.0.5', hostname: 'twin' },
  ], [{ name: 'pg', port: 5432, protocol: 'TCP' }]));
  index.apply('services', 'add', service('ns', 'ext', { type: 'ExternalName', externalName: 'example.net' }));
  index.markSynced();
  return index;
}

describe('kube2sky: records', () => {
  const index = indexOf();
  const all = new Map<string, string>();
  for (const v of index.services()) for (const [k, val] of serviceRecords(v, O)) all.set(k, val);

  it('writes a ClusterIP Service as a hashed key with SRV keys for its named ports', () => {
    const h = ipLabel('10.0.0.10');
    const web = serviceRecords(index.getService('ns', 'web')!, O);
    expect(Object.fromEntries(web)).to.deep.equal({
      [`/skydns/local/cluster/svc/ns/web/${h}`]: '{"host":"10.0.0.10","priority":10,"weight":10,"ttl":30}',
      [`/skydns/local/cluster/svc/ns/web/_tcp/_http/${h}`]: `{"host":"${h}.web.ns.svc.cluster.local","port":80,"priority":10,"weight":10,"ttl":30}`,
      [`/skydns/local/cluster/svc/ns/web/_udp/_dns/${h}`]: `{"host":"${h}.web.ns.svc.cluster.local","port":53,"priority":10,"weight":10,"ttl":30}`,
    });
  });

  it('knows which Service a key belongs to', () => {
    expect(ownerOf('/skydns/local/cluster/svc/ns/web/_tcp/_http/x', O)).to.deep.equal({ namespace: 'ns', name: 'web' });
    expect(ownerOf('/skydns/local/cluster/other/x', O)).to.equal(undefined);
  });

  const tree = new ServiceTree('/skydns');
  for (const [k, v] of all) tree.set(parseService(k, v));
  const h = new EtcdHandler(['cluster.local'], undefined, { tree, revision: 1, synced: true }, async () => undefined);
  const ask = async (name: string, type: string): Promise<string[]> => {
    const req = makeRequest(name, type);
    return messageOf(await h.serve(req, stubNext(req))).answer.map(rrText).sort();
  };
  const web = ipLabel('10.0.0.10');

  const cases: [string, string, string[]][] = [
    ['web.ns.svc.cluster.local', 'A', ['web.ns.svc.cluster.local. 30 IN A 10.0.0.10']],
    ['_http._tcp.web.ns.svc.cluster.local', 'SRV', [`_http._tcp.web.ns.svc.cluster.local. 30 IN SRV 10 100 80 ${web}.web.ns.svc.cluster.local.`]],
    ['db.ns.svc.cluster.local', 'A', ['10.1.0.1', '10.1.0.2', '10.1.0.4', '10.1.0.5'].map((ip) => `db.ns.svc.cluster.local. 30 IN A ${ip}`)],
    ['db-0.db.ns.svc.cluster.local', 'A', ['db-0.db.ns.svc.cluster.local. 30 IN A 10.1.0.1']],
    ['10-1-0-2.db.ns.svc.cluster.local', 'A', ['10-1-0-2.db.ns.svc.cluster.local. 30 IN A 10.1.0.2']],
    ['twin.db.ns.svc.cluster.local', 'A', ['twin.db.ns.svc.cluster.local. 30 IN A 10.1.0.4', 'twin.db.ns.svc.cluster.local. 30 IN A 10.1.0.5']],
    ['_pg._tcp.db.ns.svc.cluster.local', 'SRV', ['10-1-0-2', 'db-0', 'twin'].map((l) => `_pg._tcp.db.ns.svc.cluster.local. 30 IN SRV 10 33 5432 ${l}.db.ns.svc.cluster.local.`)],
    ['ext.ns.svc.cluster.local', 'CNAME', ['ext.ns.svc.cluster.local. 30 IN CNAME example.net.']],
  ];
  for (const [name, type, want] of cases) {
    it(`the etcd plugin answers ${type} ${name}`, async () => {
      expect(await ask(name, type)).to.deep.equal(want);
    });
  }
});
