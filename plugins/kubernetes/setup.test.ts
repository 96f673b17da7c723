import { expect } from 'chai';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError } from '../../core/config/errors.js';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { messageOf, Rcode } from '../../core/message.js';
import { makeRequest, stubNext } from '../../core/testing.js';
import { testEnv } from '../pkg/test-env.js';
import { configErrorOf } from '../../core/testing.js';
import { FakeApiServer } from '../../test/fixtures/k8s-api-server.js';
import { http80, namespace, service } from '../../test/fixtures/k8s-objects.js';
import { parseLabelSelector } from './labels.js';
import { setup, type KubernetesOptions } from './setup.js';

/** The kubernetes options of `cluster.local 10.0.0.0/24 { kubernetes ... }`, parsed and validated as the server would. */
function options(directive: string): unknown {
  const config = loadConfigText(`cluster.local 0.0.10.in-addr.arpa {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {}, configDir: '/' });
  return config.servers[0]!.plugins.find((p) => p.name === 'kubernetes')!.options;
}

describe('kubernetes: setup', () => {
  const ok: { corefile: string; want: unknown }[] = [
    { corefile: 'kubernetes', want: {} },
    { corefile: 'kubernetes cluster.local 10.96.0.0/15', want: { zones: ['cluster.local', '96.10.in-addr.arpa', '97.10.in-addr.arpa'] } },
    {
      corefile: 'kubernetes cluster.local in-addr.arpa ip6.arpa {\n pods insecure\n fallthrough in-addr.arpa ip6.arpa\n ttl 30\n}',
      want: { zones: ['cluster.local', 'in-addr.arpa', 'ip6.arpa'], pods: 'insecure', fallthrough: ['in-addr.arpa', 'ip6.arpa'], ttl: 30 },
    },
    {
      corefile: 'kubernetes {\n endpoint https://k8s:6443 https://other\n tls cert.pem key.pem ca.pem\n namespaces a b\n labels environment in (staging, qa),application=nginx\n endpoint_pod_names\n noendpoints\n ignore empty_service\n startup_timeout 10s\n ttl 0\n}',
      want: {
        endpoint: 'https://k8s:6443', tls: ['cert.pem', 'key.pem', 'ca.pem'], namespaces: ['a', 'b'],
        labels: 'environment in (staging, qa),application=nginx', endpoint_pod_names: true, noendpoints: true, ignore: ['empty_service'], startup_timeout: '10s', ttl: 0,
      },
    },
    { corefile: 'kubernetes {\n kubeconfig ~/.kube/config dev\n namespace_labels istio-injection=enabled\n pods verified\n}', want: { kubeconfig: ['~/.kube/config', 'dev'], namespace_labels: 'istio-injection=enabled', pods: 'verified' } },
    { corefile: 'kubernetes {\n manifests cluster.yaml more/\n apiserver_qps 50\n}', want: { manifests: ['cluster.yaml', 'more/'], apiserver_qps: 50 } },
    // setup_test.go TestKubernetesParseAPIRateLimiting: a float32 QPS.
    { corefile: 'kubernetes {\n apiserver_qps 50.0\n apiserver_burst 100\n apiserver_max_inflight 25\n}', want: { apiserver_qps: 50, apiserver_burst: 100, apiserver_max_inflight: 25 } },
    { corefile: 'kubernetes {\n apiserver_qps 2.5\n}', want: { apiserver_qps: 2.5 } },
    // setup_test.go TestKubernetesParseIgnoreEmptyService: only the first argument is read.
    { corefile: 'kubernetes {\n ignore empty_service ixnay on the endpointsay\n}', want: { ignore: ['empty_service'] } },
  ];
  for (const c of ok) {
    it(`parses: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      expect(options(c.corefile)).to.deep.equal(c.want);
    });
  }

  const bad: { corefile: string; line: number; col: number; code: string; message: RegExp }[] = [
    { corefile: 'kubernetes {\n  ttll 30\n}', line: 3, col: 3, code: 'ERR_UNKNOWN_PROPERTY', message: /did you mean 'ttl'/ },
    { corefile: 'kubernetes {\n  ttl 3601\n}', line: 3, col: 7, code: 'ERR_BAD_VALUE', message: /out of range/ },
    { corefile: 'kubernetes {\n  pods secure\n}', line: 3, col: 8, code: 'ERR_BAD_VALUE', message: /did you mean 'insecure'/ },
    { corefile: 'kubernetes {\n  ignore empty\n}', line: 3, col: 10, code: 'ERR_BAD_VALUE', message: /empty_service/ },
    // setup_test.go TestKubernetesParseIgnoreEmptyService: "unable to parse ignore value".
    { corefile: 'kubernetes {\n  ignore ixnay on the endpointsay\n}', line: 3, col: 10, code: 'ERR_BAD_VALUE', message: /empty_service/ },
    // setup_test.go TestKubernetesParseAPIRateLimiting: "apiserver_qps must be >= 0".
    { corefile: 'kubernetes {\n  apiserver_qps -10\n}', line: 3, col: 17, code: 'ERR_BAD_VALUE', message: /apiserver_qps must be >= 0/ },
    { corefile: 'kubernetes {\n  apiserver_qps fast\n}', line: 3, col: 17, code: 'ERR_BAD_VALUE', message: /not a number/ },
    { corefile: 'kubernetes {\n  tls a b\n}', line: 3, col: 3, code: 'ERR_ARG_COUNT', message: /want 3, got 2/ },
    { corefile: 'kubernetes {\n  labels a in (b\n}', line: 3, col: 10, code: 'ERR_BAD_VALUE', message: /labels/ },
    { corefile: 'kubernetes {\n  startup_timeout soon\n}', line: 3, col: 19, code: 'ERR_BAD_VALUE', message: /not a duration/ },
    { corefile: 'kubernetes {\n  namespaces a\n  namespace_labels x=y\n}', line: 4, col: 3, code: 'ERR_BAD_VALUE', message: /cannot both be set/ },
    { corefile: 'kubernetes in-addr.arpa', line: 2, col: 1, code: 'ERR_BAD_VALUE', message: /non-reverse zone/ },
    { corefile: 'kubernetes {\n  multicluster clusterset.local\n}', line: 3, col: 3, code: 'ERR_BAD_VALUE', message: /not supported/ },
  ];
  for (const c of bad) {
    it(`rejects at ${c.line}:${c.col}: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      const ce = configErrorOf(() => options(c.corefile));
      expect(ce.code).to.equal(c.code);
      expect(ce.plugin).to.equal('kubernetes');
      expect(ce.pos).to.include({ file: 'Corefile', line: c.line, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }

  it('is once per server block', () => {
    expect(() => options('kubernetes\nkubernetes')).to.throw(ConfigError);
  });

  it('label selectors match as the API server does', () => {
    const cases: [string, Record<string, string>, boolean][] = [
      ['app=web', { app: 'web' }, true], ['app==web', { app: 'db' }, false], ['app!=web', {}, true],
      ['env in (qa, prod),app', { env: 'qa', app: 'x' }, true], ['env notin (qa)', { env: 'qa' }, false], ['!canary', { canary: 'y' }, false],
      ['example.com/tier=front', { 'example.com/tier': 'front' }, true], ['', { any: 'x' }, true],
    ];
    for (const [sel, labels, want] of cases) expect(parseLabelSelector(sel).matches(labels), sel).to.equal(want);
  });
});

describe('kubernetes: setup() with its feeds', function () {
  this.timeout(15_000);

  it('serves from manifests on disk (relative to the config folder)', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'nodens-k8s-setup-'));
    try {
      await writeFile(join(dir, 'c.yaml'), 'kind: Service\nmetadata: { name: db, namespace: default }\nspec: { clusterIP: 192.168.20.3, ports: [{ port: 5432 }] }\n');
      const env = { ...testEnv({ plugin: 'kubernetes', zones: ['cluster.local'] }), configDir: dir };
      const h = await setup({ manifests: ['c.yaml'] } as KubernetesOptions, env);
      const req = makeRequest('db.default.svc.cluster.local', 'A');
      const m = messageOf(await h.serve!(req, stubNext(req)));
      expect(m.answer.map((a) => a.data)).to.deep.equal(['192.168.20.3']);
      expect(h.ready!()).to.equal(true);
      await h.close!();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('waits up to startup_timeout for an unreachable API server, then serves SERVFAIL for unknown names', async () => {
    const api = await FakeApiServer.start();
    api.add('namespaces', namespace('default'));
    api.add('services', service('default', 'db', { clusterIPs: ['10.0.0.3'], ports: http80 }));
    await api.stop();
    const env = testEnv({ plugin: 'kubernetes', zones: ['cluster.local'] });
    const t0 = Date.now();
    const h = await setup({ endpoint: api.url, startup_timeout: '300ms' }, env);
    expect(Date.now() - t0).to.be.within(250, 2000);
    expect(env.logger.lines.some((l) => l.includes('starting server with unsynced Kubernetes API'))).to.equal(true);
    expect(h.ready!()).to.equal(false);
    const req = makeRequest('db.default.svc.cluster.local', 'A');
    expect(messageOf(await h.serve!(req, stubNext(req))).rcode).to.equal(Rcode.SERVFAIL);
    await api.restart();
    const end = Date.now() + 5000;
    while (!h.ready!() && Date.now() < end) await new Promise((r) => setTimeout(r, 20));
    const req2 = makeRequest('db.default.svc.cluster.local', 'A');
    expect(messageOf(await h.serve!(req2, stubNext(req2))).answer).to.have.length(1);
    await h.close!();
    await api.close();
  });
});
