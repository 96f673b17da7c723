// The SkyDNS record format (CoreDNS plugin/etcd/msg): a JSON value under a key whose path is the
// reversed labels of a name, and the conversions between names and keys.
import { isIPv4, isIPv6 } from '../../core/ip.js';

/** One SkyDNS service: the JSON value of a key, plus the key it was found under. */
export interface Service {
  readonly host: string;
  readonly port: number;
  readonly priority: number;
  readonly weight: number;
  readonly text: string;
  readonly mail: boolean;
  /** Seconds; 0 means unset (the default TTL applies). */
  readonly ttl: number;
  readonly targetstrip: number;
  readonly group: string;
  /** The etcd key this service was read from. */
  readonly key: string;
}

/** What a Service's host stands for (CoreDNS's HostType). */
export type HostKind = 'A' | 'AAAA' | 'CNAME' | 'TXT';

export function hostKind(s: Service): HostKind {
  if (isIPv4(s.host)) return 'A';
  if (isIPv6(s.host)) return 'AAAA';
  return s.text === '' ? 'CNAME' : 'TXT';
}

const FIELDS = ['host', 'port', 'priority', 'weight', 'text', 'mail', 'ttl', 'targetstrip', 'group'] as const;

/**
 * Parses a key's JSON value. Field names match case-insensitively and numbers may be written as
 * strings ("ttl":"60" appears in CoreDNS's own README), as Go's decoder is lenient on the former.
 * Throws on a value that is not a JSON object or has a field of the wrong kind.
 */
export function parseService(key: string, value: string): Service {
  const raw: unknown = JSON.parse(value);
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) throw new Error('value is not a JSON object');
  const fields = new Map<string, unknown>();
  for (const [k, v] of Object.entries(raw)) {
    const name = k.toLowerCase();
    if ((FIELDS as readonly string[]).includes(name)) fields.set(name, v);
  }
  return {
    host: str(fields.get('host'), 'host'),
    port: int(fields.get('port'), 'port'),
    priority: int(fields.get('priority'), 'priority'),
    weight: int(fields.get('weight'), 'weight'),
    text: str(fields.get('text'), 'text'),
    mail: fields.get('mail') === true,
    ttl: int(fields.get('ttl'), 'ttl'),
    targetstrip: int(fields.get('targetstrip'), 'targetstrip'),
    group: str(fields.get('group'), 'group'),
    key,
  };
}

function str(v: unknown, field: string): string {
  if (v === undefined || v === null) return '';
  if (typeof v !== 'string') throw new Error(`${field} must be a string`);
  return v;
}

function int(v: unknown, field: string): number {
  if (v === undefined || v === null || v === '') return 0;
  const n = typeof v === 'string' && /^-?\d+$/.test(v) ? Number(v) : v;
  if (typeof n !== 'number' || !Number.isInteger(n)) throw new Error(`${field} must be an integer`);
  return n;
}

/** The JSON a writer (kube2sky) stores: only the fields that are set, as SkyDNS marshals them. */
export function serviceJson(s: Partial<Omit<Service, 'key'>>): string {
  const out: Record<string, unknown> = {};
  for (const f of FIELDS) {
    const v = s[f];
    if (v !== undefined && v !== '' && v !== 0 && v !== false) out[f] = v;
  }
  return JSON.stringify(out);
}

/** '/skydns' from 'skydns', '/skydns/', '//skydns': one leading slash, none trailing. */
export function normalizePath(path: string): string {
  const parts = path.split('/').filter((p) => p !== '');
  return `/${parts.join('/')}`;
}

/** The labels of a name, reversed: a.b.example.org → ['org', 'example', 'b', 'a']. */
export function reversedLabels(name: string): string[] {
  return name === '' ? [] : name.split('.').reverse();
}

/** The key of a name: a.b.example.org under /skydns → /skydns/org/example/b/a. */
export function keyOf(name: string, path: string): string {
  const labels = reversedLabels(name);
  const base = normalizePath(path);
  return labels.length === 0 ? base : `${base === '/' ? '' : base}/${labels.join('/')}`;
}

/** The name a key stands for (CoreDNS's Domain): /skydns/org/example/x1 → x1.example.org. */
export function domainOf(key: string, path: string): string {
  const base = normalizePath(path);
  const rest = key.slice(base === '/' ? 1 : base.length + 1);
  return rest.split('/').filter((l) => l !== '').reverse().join('.');
}

/** Drops `n` labels from the left of `name`, unless that would leave nothing (CoreDNS's targetStrip). */
export function targetStrip(name: string, n: number): string {
  if (n <= 0) return name;
  const labels = name.split('.');
  return n >= labels.length ? name : labels.slice(n).join('.');
}

/** TXT text in strings of at most 255 bytes. */
export function split255(text: string): string[] {
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length < 255) return [text];
  const out: string[] = [];
  for (let i = 0; i < bytes.length; i += 255) out.push(bytes.subarray(i, i + 255).toString('utf8'));
  return out;
}

/**
 * CoreDNS's Group: the shortest key that carries a group sets the group of the answer; services of
 * another group are left out, unless keys at that shortest depth disagree, in which case all stay.
 */
export function group(services: readonly Service[]): readonly Service[] {
  if (services.length === 0) return services;
  const depth = (s: Service): number => s.key.split('/').length;
  let chosen = services[0]!.group;
  let shortest = depth(services[0]!);
  for (const s of services) {
    const d = depth(s);
    if (d < shortest) {
      if (s.group === '') break;
      shortest = d;
      chosen = s.group;
    }
  }
  if (chosen === '') return services;
  const out: Service[] = [];
  for (const s of services) {
    if (s.group === '') {
      out.push(s);
      continue;
    }
    if (depth(s) === shortest && s.group !== chosen) return services;
    if (s.group === chosen) out.push(s);
  }
  return out;
}
