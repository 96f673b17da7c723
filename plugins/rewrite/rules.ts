// A rewrite directive's words → its rule (CoreDNS's newRule): `[continue|stop] FIELD ARGS...`, and the small
// rules (type, class, ttl, rcode). Name and EDNS0 rules have files of their own.
import { fqdn, typeCode } from 'nodens';
import { NameRegex } from '../pkg/name-regex.js';
import { edns0Rule } from './edns0.js';
import { nameRule } from './name-rule.js';
import { MATCH_TYPES, normalize, RuleError, type MatchType, type Mode, type Rule } from './rule.js';

export const FIELDS = ['name', 'type', 'class', 'edns0', 'ttl', 'rcode'] as const;
const CLASSES = ['IN', 'CS', 'CH', 'HS', 'NONE', 'ANY'];
/** miekg/dns's rcode names, for `rcode` rules. */
const RCODES: Record<string, number> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
  BADSIG: 16, BADKEY: 17, BADTIME: 18, BADMODE: 19, BADNAME: 20, BADALG: 21, BADTRUNC: 22, BADCOOKIE: 23,
};

/** Compiles one rule from a directive's words (`continue name suffix a b`); throws RuleError at the bad word. */
export function compileRule(words: readonly string[]): Rule {
  if (words.length === 0) throw new RuleError('no rule type specified for rewrite', -1);
  let mode: Mode = 'stop';
  let at = 0;
  const first = words[0]!.toLowerCase();
  if (first === 'continue' || first === 'stop') {
    mode = first;
    at = 1;
    if (words.length < 2) throw new RuleError(`${first} rule must begin with a rule type`, 0);
  }
  const field = words[at]!.toLowerCase();
  const args = words.slice(at + 1);
  const base = at + 1;
  switch (field) {
    case 'answer':
      throw new RuleError('response rewrites must begin with a name rule', at);
    case 'name':
      return nameRule(mode, args, base);
    case 'type': case 'class':
      if (args.length !== 2) throw new RuleError(`${field} rules must have exactly two arguments`, args.length < 2 ? at : base + 2);
      return field === 'type' ? typeRule(mode, args, base) : classRule(mode, args, base);
    case 'edns0':
      return edns0Rule(mode, args, base);
    case 'ttl':
      return ttlRule(mode, args, base);
    case 'rcode':
      return rcodeRule(mode, args, base);
    case 'cname':
      throw new RuleError('cname rules are not supported by nodens yet', at);
    default:
      throw new RuleError(`invalid rule type "${words[at]}" (${FIELDS.join(', ')})`, at);
  }
}

function typeRule(mode: Mode, [from, to]: readonly string[], base: number): Rule {
  const f = from!.toUpperCase();
  const t = to!.toUpperCase();
  const check = (s: string, arg: number): void => {
    try {
      typeCode(s);
    } catch {
      throw new RuleError(`invalid type "${s}"`, arg);
    }
  };
  check(f, base);
  check(t, base + 1);
  return { mode, rewrite: (_name, req) => (req.qtype === f ? { type: t, response: [] } : undefined) };
}

function classRule(mode: Mode, [from, to]: readonly string[], base: number): Rule {
  const f = from!.toUpperCase();
  const t = to!.toUpperCase();
  if (!CLASSES.includes(f)) throw new RuleError(`invalid class "${from}"`, base);
  if (!CLASSES.includes(t)) throw new RuleError(`invalid class "${to}"`, base + 1);
  return { mode, rewrite: (_name, req) => (req.qclass === f ? { class: t, response: [] } : undefined) };
}

/** `[exact|prefix|suffix|substring|regex] STRING`: the name test of ttl and rcode rules. */
function nameTest(words: readonly string[], base: number, what: string): (name: string) => boolean {
  const match = (words.length === 2 ? words[0]!.toLowerCase() : 'exact') as MatchType;
  const s = words.length === 2 ? words[1]! : words[0]!;
  const at = words.length === 2 ? base + 1 : base;
  if (!MATCH_TYPES.includes(match)) throw new RuleError(`${what} rule supports only exact, prefix, suffix, substring, and regex name matching`, base);
  if (match === 'regex') {
    let pattern: NameRegex;
    try {
      pattern = NameRegex.compile(s);
    } catch (err) {
      throw new RuleError(`invalid regex pattern in a ${what} rule: ${(err as Error).message}`, at);
    }
    return (name) => pattern.test(name);
  }
  const n = normalize(s);
  switch (match) {
    case 'exact': return (name) => name === n;
    case 'prefix': return (name) => name.startsWith(n);
    case 'suffix': return (name) => name.endsWith(n);
    default: return (name) => name.includes(n);
  }
}

/** `SECONDS`, `MIN-MAX`, `-MAX`, `MIN-` (CoreDNS's isValidTTL). */
function ttlRange(s: string, arg: number): { min: number; max: number } {
  const MAX = 2 ** 32 - 1;
  const num = (x: string): number => {
    if (!/^\d+$/.test(x) || Number(x) > MAX) throw new RuleError(`invalid TTL '${s}' for a ttl rule`, arg);
    return Number(x);
  };
  const parts = s.split('-');
  if (parts.length === 1) {
    const n = num(parts[0]!);
    return { min: n, max: n };
  }
  if (parts.length !== 2 || (parts[0] === '' && parts[1] === '')) throw new RuleError(`invalid TTL '${s}' for a ttl rule`, arg);
  const min = parts[0] === '' ? 0 : num(parts[0]!);
  const max = parts[1] === '' ? MAX : num(parts[1]!);
  if (min > max) throw new RuleError(`invalid TTL '${s}' for a ttl rule: ${min} > ${max}`, arg);
  return { min, max };
}

function ttlRule(mode: Mode, words: readonly string[], base: number): Rule {
  if (words.length < 2) throw new RuleError(`too few (${words.length}) arguments for a ttl rule`, base - 1);
  if (words.length > 3) throw new RuleError('too many arguments for a ttl rule', base + 3);
  const range = ttlRange(words.at(-1)!, base + words.length - 1);
  const test = nameTest(words.slice(0, -1), base, 'ttl');
  const response = [{ kind: 'ttl', ...range }] as const;
  return { mode, rewrite: (qname) => (test(fqdn(qname)) ? { response } : undefined) };
}

function rcodeRule(mode: Mode, words: readonly string[], base: number): Rule {
  if (words.length < 3) throw new RuleError(`too few (${words.length}) arguments for a rcode rule`, base - 1);
  if (words.length > 4) throw new RuleError('too many arguments for a rcode rule', base + 4);
  const rcode = (s: string, arg: number, what: string): number => {
    const n = /^\d+$/.test(s) ? Number(s) : RCODES[s.toUpperCase()];
    if (n === undefined || n > 4095) throw new RuleError(`invalid ${what} RCODE '${s}' for a rcode rule`, arg);
    return n;
  };
  const n = words.length;
  const from = rcode(words[n - 2]!, base + n - 2, 'matching');
  const to = rcode(words[n - 1]!, base + n - 1, 'replacement');
  const test = nameTest(words.slice(0, -2), base, 'rcode');
  const response = [{ kind: 'rcode', from, to }] as const;
  return { mode, rewrite: (qname) => (test(fqdn(qname)) ? { response } : undefined) };
}
