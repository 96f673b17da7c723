// HTTP to the API server with a ClusterAccess's credentials: GET a JSON document, and read a watch stream
// line by line. The watch replaces client-node's Watch under its ListWatch because that one drops lines
// that are not JSON without a word and buffers a line without end for ever; here both end the stream.
import http from 'node:http';
import https from 'node:https';
import type { ClusterAccess } from './cluster-access.js';

/** The longest watch line accepted (a whole object): etcd caps an object at 1.5 MiB, so this leaves room. */
export const MAX_WATCH_LINE = 16 * 1024 * 1024;

async function requestOptions(access: ClusterAccess): Promise<https.RequestOptions> {
  const init = await access.applyToFetchOptions({});
  // KubeConfig hands out node-fetch Headers; our own access plain objects.
  const h = init.headers as { entries?: () => Iterable<[string, string]> } | Record<string, string> | undefined;
  const headers = h && typeof h.entries === 'function' ? Object.fromEntries((h as { entries(): Iterable<[string, string]> }).entries()) : (h as Record<string, string> | undefined);
  return { agent: init.agent as http.Agent, headers: { ...headers, Accept: 'application/json' } };
}

function urlOf(access: ClusterAccess, path: string): URL {
  const cluster = access.getCurrentCluster();
  if (!cluster) throw new Error('no current cluster in the kubeconfig');
  return new URL(cluster.server + path);
}

const statusError = (what: string, status: number | undefined): Error =>
  Object.assign(new Error(`${what}: HTTP ${status}`), { statusCode: status });

/** GET a JSON document. Resolves with whatever JSON the server sent: the caller checks its shape. */
export async function getJson(access: ClusterAccess, path: string): Promise<unknown> {
  const url = urlOf(access, path);
  const opts = await requestOptions(access);
  const mod = url.protocol === 'https:' ? https : http;
  return new Promise((resolve, reject) => {
    const req = mod.get(url, opts, (res) => {
      // Decoded chunk by chunk, so that each socket buffer dies young (a scavenge frees it), not after the
      // whole list page: buffers kept until then reach the old generation, and freeing them at a full GC
      // leaves the malloc heap fragmented and large (a 10k-Service sync left ~20 MB that way).
      res.setEncoding('utf8');
      let body = '';
      res.on('data', (c: string) => (body += c));
      res.on('error', reject);
      res.on('end', () => {
        if (res.statusCode !== 200) {
          reject(statusError(`GET ${url.pathname}`, res.statusCode));
          return;
        }
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(new Error(`GET ${url.pathname}: the answer is not JSON: ${(err as Error).message}`));
        }
      });
    });
    req.on('error', reject);
    req.setTimeout(60_000, () => req.destroy(new Error(`GET ${url.pathname}: timed out`)));
  });
}

export type WatchParams = Record<string, string | number | boolean | undefined>;

/**
 * Opens a watch (`?watch=true`) and hands each line to `onLine`; `done` is called once, with null when the
 * server ends the stream and with the error otherwise: an HTTP status, a connection error, an abort through
 * the returned controller, a line over MAX_WATCH_LINE, or whatever `onLine` threw (a stream it distrusts).
 * Never throws: every failure goes to `done`, as client-node's ListWatch expects of a Watch.
 */
export async function watchLines(
  access: ClusterAccess, path: string, params: WatchParams, onLine: (line: string) => void, done: (err: unknown) => void,
  maxLine = MAX_WATCH_LINE,
): Promise<AbortController> {
  const ctrl = new AbortController();
  let finished = false;
  const finish = (err: unknown): void => {
    if (finished) return;
    finished = true;
    ctrl.abort();
    done(err);
  };
  try {
    const url = urlOf(access, path);
    url.searchParams.set('watch', 'true');
    for (const [k, v] of Object.entries(params)) if (v !== undefined) url.searchParams.set(k, String(v));
    const opts = await requestOptions(access);
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.get(url, { ...opts, signal: ctrl.signal }, (res) => {
      if (res.statusCode !== 200) {
        res.resume();
        finish(statusError(`watch ${url.pathname}`, res.statusCode));
        return;
      }
      let pending: Buffer[] = [];
      let pendingSize = 0;
      res.on('data', (chunk: Buffer) => {
        let start = 0;
        for (let nl = chunk.indexOf(10); nl >= 0 && !finished; nl = chunk.indexOf(10, start)) {
          const piece = chunk.subarray(start, nl);
          const line = pending.length > 0 ? Buffer.concat([...pending, piece]).toString('utf8') : piece.toString('utf8');
          pending = [];
          pendingSize = 0;
          start = nl + 1;
          try {
            onLine(line);
          } catch (err) {
            finish(err);
          }
        }
        if (finished || start >= chunk.length) return;
        pending.push(chunk.subarray(start));
        pendingSize += chunk.length - start;
        if (pendingSize > maxLine) finish(new Error(`watch ${url.pathname}: a line longer than ${maxLine} bytes`));
      });
      res.on('end', () => finish(null));
      res.on('error', finish);
      res.on('close', () => finish(new Error(`watch ${url.pathname}: connection closed mid-stream`)));
    });
    req.on('error', finish);
    // As client-node does: TCP keepalive finds a dead peer on a quiet watch.
    req.on('socket', (socket) => socket.setKeepAlive(true, 30_000));
  } catch (err) {
    finish(err);
  }
  return ctrl;
}
