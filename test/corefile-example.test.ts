// Corefile.example is CoreDNS's stock kube-system Corefile, and it must load here unchanged.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { loadConfigText } from '../core/config/load.js';
import { createRegistry } from '../core/create.js';

const file = fileURLToPath(new URL('../Corefile.example', import.meta.url));

/** kubeadm's Corefile (its CoreDNS ConfigMap template), CLUSTER_DOMAIN cluster.local, upstream /etc/resolv.conf. */
const STOCK = `.:53 {
    errors
    health {
       lameduck 5s
    }
    ready
    kubernetes cluster.local in-addr.arpa ip6.arpa {
       pods insecure
       fallthrough in-addr.arpa ip6.arpa
       ttl 30
    }
    prometheus :9153
    forward . /etc/resolv.conf {
       max_concurrent 1000
    }
    cache 30
    loop
    reload
    loadbalance
}
`;

describe('Corefile.example', () => {
  const text = readFileSync(file, 'utf8');

  it('is the stock kube-system Corefile, byte for byte', () => {
    expect(text).to.equal(STOCK);
  });

  it('loads unchanged, every plugin with the options CoreDNS reads from it', () => {
    const config = loadConfigText(text, file, { registry: createRegistry() });
    expect(config.servers).to.have.length(1);
    const server = config.servers[0]!;
    expect(server.keys.map((k) => [k.scheme, k.zone, k.port])).to.deep.equal([['dns', '', 53]]);
    const byName = Object.fromEntries(server.plugins.map((p) => [p.name, p.options]));
    // Execution order is plugin.cfg's, not the file's.
    expect(server.plugins.map((p) => p.name)).to.deep.equal(
      ['reload', 'ready', 'health', 'prometheus', 'errors', 'loadbalance', 'cache', 'kubernetes', 'loop', 'forward'],
    );
    expect(byName).to.deep.include({
      health: { lameduck: '5s' },
      prometheus: { address: ':9153' },
      cache: { ttl: 30 },
      kubernetes: { zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'], pods: 'insecure', fallthrough: ['in-addr.arpa', 'ip6.arpa'], ttl: 30 },
    });
    expect(byName.forward).to.deep.include({ from: '', to: ['/etc/resolv.conf'], max_concurrent: 1000 });
  });
});
