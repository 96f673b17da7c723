// examples/kubernetes: every manifest parses and is valid by the Kubernetes OpenAPI schema, and they agree with
// each other, with the Corefile they ship and with what the kubernetes plugin actually reads from the API server.
import { expect } from 'chai';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parseAllDocuments } from 'yaml';
import { loadConfigText } from '../core/config/load.js';
import { createRegistry } from '../core/create.js';
import { DEFAULT_ADDRESS as HEALTH_ADDRESS } from '../plugins/health/setup.js';
import { DEFAULT_ADDRESS as READY_ADDRESS } from '../plugins/ready/setup.js';
import { schemaErrors } from './fixtures/k8s-schema.js';

const dir = fileURLToPath(new URL('../examples/kubernetes/', import.meta.url));
const root = fileURLToPath(new URL('../', import.meta.url));

// Loose views of the manifests: only the fields checked here.
interface Meta { name: string; namespace?: string; labels?: Record<string, string> }
interface Manifest { apiVersion: string; kind: string; metadata: Meta; [k: string]: unknown }
interface Port { name?: string; containerPort: number; protocol?: string }
interface Probe { httpGet: { path: string; port: number | string; scheme?: string } }
interface Container {
  name: string; image: string; args: string[]; ports: Port[];
  livenessProbe: Probe; readinessProbe: Probe;
  volumeMounts: { name: string; mountPath: string; readOnly?: boolean }[];
  resources: { requests?: Record<string, string>; limits?: Record<string, string> };
  securityContext: { allowPrivilegeEscalation?: boolean; readOnlyRootFilesystem?: boolean; capabilities?: { add?: string[]; drop?: string[] } };
}
interface PodSpec {
  serviceAccountName: string; dnsPolicy?: string; containers: Container[];
  securityContext?: { runAsNonRoot?: boolean; runAsUser?: number };
  volumes: { name: string; configMap?: { name: string; items?: { key: string; path: string }[] } }[];
  affinity?: { podAntiAffinity?: { preferredDuringSchedulingIgnoredDuringExecution?: { podAffinityTerm: { labelSelector: { matchLabels: Record<string, string> } } }[] } };
}
interface Deployment extends Manifest { spec: { replicas: number; selector: { matchLabels: Record<string, string> }; template: { metadata: Meta; spec: PodSpec & { tolerations?: Toleration[] } } } }
interface Toleration { key?: string; operator?: string; effect?: string }
interface Service extends Manifest { spec: { clusterIP?: string; selector: Record<string, string>; ports: { name: string; port: number; protocol: string; targetPort: number | string }[] } }
interface Budget extends Manifest { spec: { minAvailable?: number | string; maxUnavailable?: number | string; selector: { matchLabels: Record<string, string> } } }
interface Autoscaler extends Manifest {
  spec: {
    scaleTargetRef: { apiVersion: string; kind: string; name: string }; minReplicas: number; maxReplicas: number;
    metrics: { type: string; resource?: { name: string; target: { type: string; averageUtilization?: number } } }[];
  };
}
interface Rule { apiGroups: string[]; resources: string[]; verbs: string[] }
interface ClusterRole extends Manifest { rules: Rule[] }
interface Binding extends Manifest { roleRef: { apiGroup: string; kind: string; name: string }; subjects: { kind: string; name: string; namespace?: string }[] }
interface ConfigMap extends Manifest { data: Record<string, string> }

/** The objects in the YAML files of a folder (and, with `deep`, of its subfolders), each with its file. */
function loadManifests(from = dir, deep = false): (Manifest & { file?: string })[] {
  const out: (Manifest & { file?: string })[] = [];
  for (const f of readdirSync(from).sort()) {
    if (deep && statSync(from + f).isDirectory()) out.push(...loadManifests(`${from}${f}/`, true));
    if (!/\.ya?ml$/.test(f)) continue;
    for (const doc of parseAllDocuments(readFileSync(from + f, 'utf8'))) {
      if (doc.errors.length > 0) throw new Error(`${f}: ${doc.errors.map((e) => e.message).join('; ')}`);
      const m = doc.toJS() as Manifest | null;
      if (m) out.push(deep ? { ...m, file: (from + f).slice(dir.length) } : m);
    }
  }
  return out;
}

/**
 * The (API group, resource) pairs the kubernetes plugin lists and watches, read from its source: the PATHS
 * table in plugins/kubernetes/feed-api.ts (not exported, so its text is parsed). Every one is read by an
 * informer, i.e. with `list` and `watch`, and nothing else is requested from the API server.
 */
function pluginResources(): string[] {
  const src = readFileSync(`${root}plugins/kubernetes/feed-api.ts`, 'utf8');
  const table = /const PATHS\b[^{]*\{([^}]*)\}/.exec(src)?.[1];
  if (!table) throw new Error('PATHS not found in plugins/kubernetes/feed-api.ts');
  return [...table.matchAll(/'(\/apis?\/[^']+)'/g)].map(([, path]) => {
    const core = /^\/api\/v1\/([a-z]+)$/.exec(path!);
    const grouped = /^\/apis\/([^/]+)\/[^/]+\/([a-z]+)$/.exec(path!);
    if (core) return `/${core[1]}`;
    if (grouped) return `${grouped[1]}/${grouped[2]}`;
    throw new Error(`unexpected API path ${path}`);
  }).sort();
}

const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8')) as { version: string };

const isSubset = (small: Record<string, string>, big: Record<string, string> = {}) => Object.entries(small).every(([k, v]) => big[k] === v);
const portOf = (address: string) => Number(/:(\d+)$/.exec(address)?.[1]);

describe('examples/kubernetes manifests', () => {
  const all = loadManifests();
  const one = <T extends Manifest>(kind: string): T => {
    const found = all.filter((m) => m.kind === kind);
    expect(found, kind).to.have.length(1);
    return found[0] as T;
  };
  const sa = one('ServiceAccount');
  const role = one<ClusterRole>('ClusterRole');
  const binding = one<Binding>('ClusterRoleBinding');
  const cm = one<ConfigMap>('ConfigMap');
  const deploy = one<Deployment>('Deployment');
  const svc = one<Service>('Service');
  const pod = deploy.spec.template.spec;
  const container = pod.containers[0]!;
  const podLabels = deploy.spec.template.metadata.labels ?? {};

  const pdb = one<Budget>('PodDisruptionBudget');
  const hpa = one<Autoscaler>('HorizontalPodAutoscaler');

  it('are the eight objects an operator applies, namespaced ones in kube-system', () => {
    expect(all.map((m) => m.kind).sort()).to.deep.equal([
      'ClusterRole', 'ClusterRoleBinding', 'ConfigMap', 'Deployment', 'HorizontalPodAutoscaler', 'PodDisruptionBudget', 'Service', 'ServiceAccount',
    ]);
    for (const m of [sa, cm, deploy, svc, pdb, hpa]) expect(m.metadata.namespace, m.kind).to.equal('kube-system');
    expect(sa.metadata.name).to.equal('nodens');
    expect(svc.metadata.name).to.equal('kube-dns');
  });

  it('the ServiceAccount is the Deployment\'s and the binding\'s subject; the binding names the ClusterRole', () => {
    expect(pod.serviceAccountName).to.equal(sa.metadata.name);
    expect(binding.subjects).to.deep.equal([{ kind: 'ServiceAccount', name: sa.metadata.name, namespace: sa.metadata.namespace }]);
    expect(binding.roleRef).to.deep.equal({ apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: role.metadata.name });
  });

  it('RBAC grants list and watch on exactly the resources the kubernetes plugin reads', () => {
    const want = pluginResources();
    expect(want).to.deep.equal(['/namespaces', '/pods', '/services', 'discovery.k8s.io/endpointslices']);
    const granted = new Set<string>();
    for (const r of role.rules) for (const g of r.apiGroups) for (const res of r.resources) for (const v of r.verbs) granted.add(`${g}/${res} ${v}`);
    expect([...granted].sort()).to.deep.equal(want.flatMap((r) => [`${r} list`, `${r} watch`]).sort());
  });

  it('the ConfigMap\'s Corefile is Corefile.example, mounted where -conf reads it, and loads', () => {
    const corefile = cm.data.Corefile!;
    expect(corefile).to.equal(readFileSync(`${root}Corefile.example`, 'utf8'));
    const volume = pod.volumes.find((v) => v.configMap?.name === cm.metadata.name);
    expect(volume, 'a volume of the ConfigMap').to.not.equal(undefined);
    const mount = container.volumeMounts.find((m) => m.name === volume!.name)!;
    expect(mount.readOnly).to.equal(true);
    const item = volume!.configMap!.items!.find((i) => i.key === 'Corefile')!;
    expect(container.args).to.deep.equal(['-conf', `${mount.mountPath}/${item.path}`]);
    const config = loadConfigText(corefile, `${mount.mountPath}/${item.path}`, { registry: createRegistry() });
    expect(config.servers[0]!.plugins.map((p) => p.name)).to.include.members(['kubernetes', 'health', 'ready', 'prometheus', 'forward']);
  });

  it('container ports are the Corefile\'s; probes and the Service\'s targetPorts hit declared ports', () => {
    const config = loadConfigText(cm.data.Corefile!, 'Corefile', { registry: createRegistry() });
    const block = config.servers[0]!;
    const opts = (name: string) => (block.plugins.find((p) => p.name === name)?.options ?? {}) as { address?: string };
    const dnsPort = block.keys[0]!.port ?? 53;
    const find = (port: number | string, protocol = 'TCP') => container.ports.find(
      (p) => (typeof port === 'number' ? p.containerPort === port : p.name === port) && (p.protocol ?? 'TCP') === protocol,
    );
    expect(find(dnsPort, 'UDP'), 'DNS over UDP').to.not.equal(undefined);
    expect(find(dnsPort, 'TCP'), 'DNS over TCP').to.not.equal(undefined);
    expect(find(portOf(opts('prometheus').address!)), 'metrics').to.not.equal(undefined);
    expect(container.livenessProbe.httpGet).to.deep.include({ path: '/health', port: portOf(opts('health').address ?? HEALTH_ADDRESS) });
    expect(container.readinessProbe.httpGet).to.deep.include({ path: '/ready', port: portOf(opts('ready').address ?? READY_ADDRESS) });
    for (const probe of [container.livenessProbe, container.readinessProbe]) expect(find(probe.httpGet.port), probe.httpGet.path).to.not.equal(undefined);
    // The Service: 53/UDP, 53/TCP and 9153/TCP, each sent to the container port of the same number and protocol.
    expect(svc.spec.ports.map((p) => `${p.port}/${p.protocol}`).sort()).to.deep.equal(['53/TCP', '53/UDP', '9153/TCP']);
    for (const p of svc.spec.ports) {
      const target = find(p.targetPort, p.protocol);
      expect(target, `targetPort ${p.targetPort}`).to.not.equal(undefined);
      expect(target!.containerPort).to.equal(p.port);
    }
  });

  it('labels and selectors match', () => {
    expect(isSubset(deploy.spec.selector.matchLabels, podLabels), 'Deployment selector').to.equal(true);
    expect(isSubset(svc.spec.selector, podLabels), 'Service selector').to.equal(true);
    // kube-dns keeps kubeadm's selector, so it reaches CoreDNS's pods and ours alike during a swap...
    expect(svc.spec.selector).to.deep.equal({ 'k8s-app': 'kube-dns' });
    // ...while the Deployment's own selector is narrower and never claims CoreDNS's pods.
    expect(deploy.spec.selector.matchLabels).to.not.deep.equal(svc.spec.selector);
    for (const term of pod.affinity?.podAntiAffinity?.preferredDuringSchedulingIgnoredDuringExecution ?? []) {
      expect(isSubset(term.podAffinityTerm.labelSelector.matchLabels, podLabels), 'anti-affinity').to.equal(true);
    }
  });

  it('the Deployment: 2 replicas, non-root, NET_BIND_SERVICE only, read-only root, resources, node resolv.conf', () => {
    expect(deploy.spec.replicas).to.equal(2);
    // Pinned to the release being built: the package's version, never a moving tag.
    expect(container.image).to.equal(`nodens:${pkg.version}`);
    expect(pod.securityContext?.runAsNonRoot).to.equal(true);
    expect(pod.securityContext?.runAsUser).to.be.greaterThan(0);
    expect(container.securityContext).to.deep.include({ allowPrivilegeEscalation: false, readOnlyRootFilesystem: true });
    expect(container.securityContext.capabilities).to.deep.equal({ add: ['NET_BIND_SERVICE'], drop: ['ALL'] });
    expect(container.resources.requests).to.have.keys('cpu', 'memory');
    expect(container.resources.limits).to.have.keys('memory');
    // `forward . /etc/resolv.conf` must read the node's resolvers, not kube-dns (that would be a loop).
    expect(pod.dnsPolicy).to.equal('Default');
  });

  it('the PodDisruptionBudget keeps one nodens pod (minAvailable 1) of the Deployment\'s', () => {
    expect(pdb.spec.minAvailable).to.equal(1);
    expect(pdb.spec.maxUnavailable).to.equal(undefined);
    expect(pdb.spec.selector.matchLabels).to.deep.equal(deploy.spec.selector.matchLabels);
    // A budget of 1 over 1 replica would block every drain.
    expect(deploy.spec.replicas).to.be.greaterThan(pdb.spec.minAvailable as number);
  });

  it('the kube-dns Service has a clusterIP placeholder, which the README tells how to set', () => {
    expect(svc.spec.clusterIP).to.equal('CLUSTER_DNS_IP');
    const readme = readFileSync(`${dir}README.md`, 'utf8');
    expect(readme).to.contain('CLUSTER_DNS_IP');
    expect(readme).to.contain("kubectl -n kube-system get service kube-dns -o jsonpath='{.spec.clusterIP}'");
  });

  it('tolerates control-plane nodes and critical-add-on taints, as kubeadm\'s CoreDNS', () => {
    const tolerations = deploy.spec.template.spec.tolerations ?? [];
    expect(tolerations).to.deep.include({ key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' });
    expect(tolerations).to.deep.include({ key: 'CriticalAddonsOnly', operator: 'Exists' });
  });

  it('the HorizontalPodAutoscaler scales the Deployment on CPU, from its request, never below its replicas', () => {
    expect(hpa.spec.scaleTargetRef).to.deep.equal({ apiVersion: deploy.apiVersion, kind: deploy.kind, name: deploy.metadata.name });
    expect(hpa.spec.minReplicas).to.equal(deploy.spec.replicas);
    expect(hpa.spec.maxReplicas).to.be.greaterThan(hpa.spec.minReplicas);
    expect(hpa.spec.metrics).to.deep.equal([{ type: 'Resource', resource: { name: 'cpu', target: { type: 'Utilization', averageUtilization: 70 } } }]);
    // Utilization is a share of the request: without a CPU request the HPA has nothing to scale on.
    expect(container.resources.requests?.cpu).to.equal('100m');
  });
});

describe('examples/kubernetes manifests by the Kubernetes OpenAPI schema', () => {
  // Every object in every YAML file under examples/kubernetes, subfolders included.
  const every = loadManifests(dir, true);

  it('finds every manifest', () => {
    expect(every.length).to.be.at.least(8);
    for (const m of every) expect(m, m.file).to.include.keys('apiVersion', 'kind', 'metadata');
  });

  for (const m of every) {
    it(`${m.file}: ${m.kind} ${m.metadata.name} is valid (types, enums, required and known fields)`, async () => {
      const { file: _file, ...object } = m;
      expect(await schemaErrors(object)).to.deep.equal([]);
    });
  }

  // The validation can fail: each of these breaks a manifest the way a hand edit would.
  const broken: [string, (d: Deployment) => void, RegExp][] = [
    ['a port as a string', (d) => { (d.spec.template.spec.containers[0]!.ports[0] as unknown as { containerPort: string }).containerPort = '53'; }, /containerPort must be integer/],
    ['a misspelt field', (d) => { (d.spec as unknown as Record<string, unknown>).replcas = 3; }, /\/spec\/replcas: not a field of the API/],
    ['an unknown enum value', (d) => { (d.spec.template.spec.containers[0] as unknown as Record<string, unknown>).imagePullPolicy = 'Sometimes'; }, /imagePullPolicy must be equal to one of the allowed values/],
    ['a required field missing', (d) => { delete (d.spec as Partial<Deployment['spec']>).selector; }, /data\/spec must have required property '?selector'?/],
  ];
  for (const [what, breakIt, error] of broken) {
    it(`rejects the Deployment with ${what}`, async () => {
      const deploy = structuredClone(loadManifests().find((m) => m.kind === 'Deployment')) as Deployment;
      breakIt(deploy);
      expect((await schemaErrors(deploy)).join('\n')).to.match(error);
    });
  }
});
