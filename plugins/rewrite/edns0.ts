// `rewrite edns0 local|nsid|subnet set|append|replace|unset ...`, as CoreDNS's plugin/rewrite/edns0.go:
// set replaces a matching option or adds one, append adds one only when none matches, replace changes only a
// matching one, unset removes it. `revert` takes the change back out of the reply.
import { isIPv4 } from 'node:net';
import { fqdn, isMetadataLabel, typeCode, type Request } from 'nodens';
import { RuleError, type EdnsOption, type Mode, type ResponseRule, type Rule } from './rule.js';

const NSID = 3;
const SUBNET = 8;
type Action = 'set' | 'append' | 'replace' | 'unset';
const ACTIONS: readonly Action[] = ['set', 'append', 'replace', 'unset'];
const VARIABLES = ['{qname}', '{qtype}', '{client_ip}', '{client_port}', '{protocol}', '{server_ip}', '{server_port}'];

/** Go's strconv.ParseUint(s, 0, 16): 0x hex, 0o/0 octal, 0b binary, else decimal. */
function parseCode(s: string, arg: number): number {
  const m = /^(0x[0-9a-f]+|0o?[0-7]+|0b[01]+|[1-9]\d*|0)$/i.exec(s);
  const n = m ? Number(/^0[0-7]/.test(s) ? `0o${s.slice(1)}` : s) : NaN;
  if (!Number.isInteger(n) || n > 0xffff) throw new RuleError(`invalid EDNS0 option code '${s}'`, arg);
  return n;
}

function uint16(n: number): Uint8Array {
  return Uint8Array.of(n >> 8, n & 0xff);
}

function ipBytes(address: string): Uint8Array {
  if (isIPv4(address)) return Uint8Array.from(address.split('.').map(Number));
  // An IPv4-mapped tail (::ffff:10.0.0.1) is two groups.
  const dotted = /^(.*:)(\d+\.\d+\.\d+\.\d+)$/.exec(address);
  if (dotted) {
    const b = ipBytes(dotted[2]!);
    address = `${dotted[1]}${((b[0]! << 8) | b[1]!).toString(16)}:${((b[2]! << 8) | b[3]!).toString(16)}`;
  }
  const [head, tail] = address.split('::') as [string, string | undefined];
  const groups = (s: string | undefined): number[] => (s ? s.split(':').map((g) => parseInt(g, 16)) : []);
  const h = groups(head);
  const t = groups(tail);
  const all = tail === undefined ? h : [...h, ...new Array<number>(8 - h.length - t.length).fill(0), ...t];
  const out = new Uint8Array(16);
  all.forEach((g, i) => out.set(uint16(g), i * 2));
  return out;
}

/** The value of a `{variable}` for this query (CoreDNS's ruleData); undefined when there is none. */
function variableData(variable: string, qname: string, req: Request): Uint8Array | undefined {
  switch (variable) {
    case '{qname}': return Buffer.from(fqdn(qname));
    case '{qtype}': return uint16(typeCode(req.qtype));
    case '{client_ip}': return ipBytes(req.client.address);
    case '{server_ip}': return ipBytes(req.local.address);
    case '{client_port}': return uint16(req.client.port);
    case '{server_port}': return uint16(req.local.port);
    case '{protocol}': return Buffer.from(req.client.transport);
  }
  const value = req.metadata.get(variable.slice(1, -1));
  return value ? Buffer.from(value) : undefined;
}

/** RFC 7871 option data: family, source prefix, scope 0, the client's address cut to the prefix. */
function subnetData(address: string, ipFamily: 4 | 6, v4: number, v6: number): Uint8Array {
  const family = ipFamily === 4 ? 1 : 2;
  const bits = family === 1 ? v4 : v6;
  const ip = ipBytes(address);
  const bytes = Math.ceil(bits / 8);
  const out = new Uint8Array(4 + bytes);
  out.set(uint16(family), 0);
  out[2] = bits;
  out[3] = 0;
  for (let i = 0; i < bytes; i++) {
    const keep = Math.min(8, bits - i * 8);
    out[4 + i] = ip[i]! & (0xff << (8 - keep));
  }
  return out;
}

/** Applies `action` for option `code` with `data`; undefined when nothing changes (the rule did not apply). */
function applyOption(options: readonly EdnsOption[], action: Action, code: number, data: Uint8Array, revert: boolean): { options: EdnsOption[]; response: ResponseRule[] } | undefined {
  const at = options.findIndex((o) => o.code === code);
  if (at >= 0) {
    if (action === 'append') return undefined;
    const next = [...options];
    next[at] = { code, data };
    return { options: next, response: revert ? [{ kind: 'edns0', code, restore: options[at] }] : [] };
  }
  if (action === 'replace') return undefined;
  return { options: [...options, { code, data }], response: revert ? [{ kind: 'edns0', code, restore: undefined }] : [] };
}

/** `words` are the rule's arguments after `edns0`; `base` is the index of the first among the directive's words. */
export function edns0Rule(mode: Mode, words: readonly string[], base: number): Rule {
  if (words.length < 2) throw new RuleError('too few arguments for an EDNS0 rule', base - 1);
  const kind = words[0]!.toLowerCase();
  const action = words[1]!.toLowerCase() as Action;
  if (!ACTIONS.includes(action)) throw new RuleError(`invalid action: "${words[1]}" (set, append, replace or unset)`, base + 1);
  if (!['local', 'nsid', 'subnet'].includes(kind)) throw new RuleError(`invalid rule type "${words[0]}" (local, nsid or subnet)`, base);
  let args = words.slice(2);
  const revert = action !== 'unset' && args.at(-1) === 'revert';
  if (revert) args = args.slice(0, -1);
  const want = (n: number, what: string): void => {
    if (args.length !== n) throw new RuleError(`EDNS0 ${kind} ${action} ${what}`, base + 2 + Math.min(args.length, n));
  };

  if (action === 'unset') {
    want(kind === 'local' ? 1 : 0, kind === 'local' ? 'takes exactly one argument, the option code' : 'takes no arguments');
    const code = kind === 'local' ? parseCode(args[0]!, base + 2) : kind === 'nsid' ? NSID : SUBNET;
    return {
      mode,
      rewrite: (_name, req) => ({ ednsOptions: req.ednsOptions.filter((o) => o.code !== code), response: [] }),
    };
  }

  if (kind === 'nsid') {
    want(0, 'takes no arguments (but revert)');
    return { mode, rewrite: (_name, req) => done(applyOption(req.ednsOptions, action, NSID, new Uint8Array(0), revert)) };
  }
  if (kind === 'subnet') {
    want(2, 'takes two arguments: the IPv4 and IPv6 prefix lengths');
    const v4 = Number(args[0]);
    const v6 = Number(args[1]);
    if (!/^\d+$/.test(args[0]!) || v4 > 32) throw new RuleError(`invalid IPv4 bit mask length ${args[0]}`, base + 2);
    if (!/^\d+$/.test(args[1]!) || v6 > 128) throw new RuleError(`invalid IPv6 bit mask length ${args[1]}`, base + 3);
    return {
      mode,
      rewrite: (_name, req) => {
        const data = subnetData(req.client.address, req.client.family, v4, v6);
        return done(applyOption(req.ednsOptions, action, SUBNET, data, revert));
      },
    };
  }
  want(2, 'takes two arguments: the option code and its data');
  const code = parseCode(args[0]!, base + 2);
  const value = args[1]!;
  if (value.startsWith('{') && value.endsWith('}')) {
    if (!VARIABLES.includes(value) && !isMetadataLabel(value.slice(1, -1))) throw new RuleError(`unsupported variable name "${value}"`, base + 3);
    return {
      mode,
      rewrite: (name, req) => {
        const data = variableData(value, name, req);
        return data === undefined ? undefined : done(applyOption(req.ednsOptions, action, code, data, revert));
      },
    };
  }
  let data: Uint8Array;
  if (value.startsWith('0x')) {
    if (!/^(?:[0-9a-f]{2})*$/i.test(value.slice(2))) throw new RuleError(`'${value}' is not hex data`, base + 3);
    data = Buffer.from(value.slice(2), 'hex');
  } else {
    data = Buffer.from(value);
  }
  return { mode, rewrite: (_name, req) => done(applyOption(req.ednsOptions, action, code, data, revert)) };
}

function done(r: { options: EdnsOption[]; response: ResponseRule[] } | undefined) {
  return r === undefined ? undefined : { ednsOptions: r.options, response: r.response };
}
