import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { endpointAccess, inClusterAccess } from './cluster-access.js';

describe('kubernetes: cluster access', () => {
  it('in-cluster: the service host and port, the CA, and the token as a bearer header', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodens-sa-'));
    try {
      await writeFile(join(dir, 'ca.crt'), 'not checked until a connection is made');
      await writeFile(join(dir, 'token'), 'tok-123\n');
      const a = inClusterAccess({ KUBERNETES_SERVICE_HOST: 'fd00::1', KUBERNETES_SERVICE_PORT: '443' }, dir);
      expect(a.getCurrentCluster()).to.deep.equal({ server: 'https://[fd00::1]:443' });
      const init = await a.applyToFetchOptions({});
      expect(init.headers).to.deep.equal({ Authorization: 'Bearer tok-123' });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('in-cluster without KUBERNETES_SERVICE_HOST is an error, as in CoreDNS', () => {
    expect(() => inClusterAccess({}, '/nonexistent')).to.throw(/unable to load in-cluster configuration/);
  });

  it('endpoint: plain http needs no TLS material', async () => {
    const a = endpointAccess('http://127.0.0.1:8080/');
    expect(a.getCurrentCluster()).to.deep.equal({ server: 'http://127.0.0.1:8080' });
    expect((await a.applyToFetchOptions({})).headers).to.deep.equal({});
  });
});
