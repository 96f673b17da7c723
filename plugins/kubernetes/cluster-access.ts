// How to reach the API server: the URL, an agent with the TLS material, and auth headers, in the shape
// client-node's Watch asks a KubeConfig for. In-cluster and `endpoint`/`tls` are built here without loading
// client-node's KubeConfig, whose import pulls in the whole generated API (~70 MB of RSS); a kubeconfig
// file (exec plugins, OIDC...) loads the real KubeConfig.
import { readFileSync } from 'node:fs';
import http from 'node:http';
import https from 'node:https';

/** The part of client-node's KubeConfig that Watch and our lister use. */
export interface ClusterAccess {
  getCurrentCluster(): { readonly server: string } | null;
  applyToFetchOptions(opts: https.RequestOptions): Promise<{ agent?: unknown; headers?: unknown; method?: string; timeout?: number }>;
}

const SA_DIR = '/var/run/secrets/kubernetes.io/serviceaccount';

/** Headers and agent for one request: the shape both node-fetch (Watch) and http.get accept. */
function access(server: string, agent: http.Agent, headers: () => Record<string, string>): ClusterAccess {
  return {
    getCurrentCluster: () => ({ server }),
    applyToFetchOptions: async () => ({ agent, headers: headers() }),
  };
}

/** The pod's service account: KUBERNETES_SERVICE_HOST/PORT, its CA and its (rotating) token. */
export function inClusterAccess(env: NodeJS.ProcessEnv = process.env, dir = SA_DIR): ClusterAccess {
  const host = env.KUBERNETES_SERVICE_HOST;
  const port = env.KUBERNETES_SERVICE_PORT;
  if (!host || !port) throw new Error('unable to load in-cluster configuration: KUBERNETES_SERVICE_HOST and KUBERNETES_SERVICE_PORT must be defined');
  const ca = readFileSync(`${dir}/ca.crt`);
  const server = `https://${host.includes(':') ? `[${host}]` : host}:${port}`;
  const agent = new https.Agent({ ca, keepAlive: true });
  // Bound service account tokens rotate: read the file again at most once a minute.
  let token = '';
  let readAt = 0;
  return access(server, agent, () => {
    if (Date.now() - readAt > 60_000) {
      token = readFileSync(`${dir}/token`, 'utf8').trim();
      readAt = Date.now();
    }
    return { Authorization: `Bearer ${token}` };
  });
}

/** `endpoint URL` with optional `tls CERT KEY CACERT`. */
export function endpointAccess(url: string, tls?: readonly [string, string, string]): ClusterAccess {
  const server = url.replace(/\/$/, '');
  if (server.startsWith('http:')) return access(server, new http.Agent({ keepAlive: true }), () => ({}));
  const [cert, key, ca] = tls ?? [];
  const agent = new https.Agent({
    keepAlive: true,
    ...(cert ? { cert: readFileSync(cert) } : {}),
    ...(key ? { key: readFileSync(key) } : {}),
    ...(ca ? { ca: readFileSync(ca) } : {}),
  });
  return access(server, agent, () => ({}));
}

/** A kubeconfig file, through client-node's KubeConfig (loaded only here). */
export async function kubeconfigAccess(file: string, context?: string): Promise<ClusterAccess> {
  const { KubeConfig } = await import('@kubernetes/client-node');
  const kc = new KubeConfig();
  kc.loadFromFile(file);
  if (context) kc.setCurrentContext(context);
  // client-node refuses an http:// server unless skipTLSVerify is set; client-go talks plain http to it (a
  // local proxy, `kubectl proxy`). There is no TLS to verify over http, so setting it changes nothing else.
  const current = kc.getCurrentCluster();
  if (current?.server.startsWith('http:') && !current.skipTLSVerify) {
    kc.loadFromOptions({
      clusters: kc.clusters.map((c) => (c.name === current.name ? { ...c, skipTLSVerify: true } : c)),
      users: kc.users, contexts: kc.contexts, currentContext: kc.currentContext,
    });
  }
  return kc as unknown as ClusterAccess;
}

