// The SkyDNS keys kube2sky writes for one Service, under svc.ZONE: the Service name with its cluster
// IPs, a headless Service's ready endpoints by their endpoint names, and SRV keys for named ports.
import { createHash } from 'node:crypto';
import type { ServiceView } from '../../kubernetes/records.js';
import { keyOf, serviceJson } from '../msg.js';

export interface RecordOptions {
  /** The cluster zone, e.g. cluster.local. */
  readonly zone: string;
  /** The key prefix (the etcd plugin's PATH), e.g. /skydns. */
  readonly path: string;
  /** TTL of every record, in seconds (kube2sky wrote 30). */
  readonly ttl: number;
}

/** Key → JSON value. */
export type Records = Map<string, string>;

/** The key under which every Service of the cluster lives: /skydns/local/cluster/svc. */
export function servicesKey(o: RecordOptions): string {
  return keyOf(`svc.${o.zone}`, o.path);
}

/** The key of a Service's name; its records are this key and the keys below it. */
export function serviceKey(o: RecordOptions, namespace: string, name: string): string {
  return keyOf(`${name}.${namespace}.svc.${o.zone}`, o.path);
}

/** A stable label for a cluster IP (kube2sky hashed its records the same way): the same IP, the same key. */
export function ipLabel(ip: string): string {
  return createHash('sha1').update(ip).digest('hex').slice(0, 8);
}

/**
 * The records of one Service (kube2sky's layout, with endpoint names instead of hashes for
 * headless Services, so `pod-0.db.ns.svc.ZONE` resolves as with the kubernetes plugin):
 *
 * - ClusterIP: `HASH.NAME.NS.svc.ZONE` → {host: IP} for each cluster IP, and for each named port
 *   `HASH._PORT._PROTO.NAME.NS.svc.ZONE` → {host: HASH.NAME.NS.svc.ZONE, port}.
 * - Headless: `LABEL.NAME.NS.svc.ZONE` → {host: IP} per ready endpoint (a label with several
 *   addresses gets one key per address below it), and `LABEL._PORT._PROTO.NAME...` SRV keys.
 * - ExternalName: `NAME.NS.svc.ZONE` → {host: EXTERNAL} (a CNAME).
 *
 * A query for NAME.NS.svc.ZONE then answers with every address below it, and the SRV keys, whose
 * hosts lie below the queried name, are left out of A answers by the etcd plugin's loop rule.
 */
export function serviceRecords(view: ServiceView, o: RecordOptions): Records {
  const out: Records = new Map();
  const svcName = `${view.name}.${view.namespace}.svc.${o.zone}`.toLowerCase();
  const base = { priority: 10, weight: 10, ttl: o.ttl };
  const put = (name: string, value: Parameters<typeof serviceJson>[0]): void => void out.set(keyOf(name, o.path), serviceJson({ ...base, ...value }));
  const srvKeys = (label: string, ports: ServiceView['ports']): void => {
    for (const p of ports) {
      if (!p.name || p.port < 0) continue;
      const proto = (p.protocol ?? 'TCP').toLowerCase();
      put(`${label}._${p.name.toLowerCase()}._${proto}.${svcName}`, { host: `${label}.${svcName}`, port: p.port });
    }
  };

  switch (view.kind) {
    case 'ExternalName':
      if (view.externalName) put(svcName, { host: view.externalName });
      break;
    case 'ClusterIP':
      for (const ip of view.clusterIPs) {
        const label = ipLabel(ip);
        put(`${label}.${svcName}`, { host: ip });
        srvKeys(label, view.ports);
      }
      break;
    case 'Headless': {
      const byLabel = new Map<string, { ips: string[]; ports: ServiceView['ports'] }>();
      for (const e of view.endpoints) {
        const cur = byLabel.get(e.label) ?? { ips: [], ports: [] };
        if (!cur.ips.includes(e.ip)) cur.ips.push(e.ip);
        cur.ports = [...cur.ports, ...e.ports.filter((p) => !cur.ports.some((q) => q.name === p.name && q.protocol === p.protocol))];
        byLabel.set(e.label, cur);
      }
      for (const [label, { ips, ports }] of byLabel) {
        if (ips.length === 1) put(`${label}.${svcName}`, { host: ips[0]! });
        else for (const ip of ips) put(`${ipLabel(ip)}.${label}.${svcName}`, { host: ip });
        srvKeys(label, ports);
      }
      break;
    }
  }
  return out;
}

/** The namespace and name of the Service a key belongs to, or undefined for a key outside svc.ZONE. */
export function ownerOf(key: string, o: RecordOptions): { namespace: string; name: string } | undefined {
  const head = `${servicesKey(o)}/`;
  if (!key.startsWith(head)) return undefined;
  const [namespace, name] = key.slice(head.length).split('/');
  return namespace && name ? { namespace, name } : undefined;
}
