// Maps a reply back after a rewrite (CoreDNS's ResponseReverter): the response rules run on every record of
// the answer, authority and additional sections, last rule first; the question itself is restored by the core.
import { fqdn, messageOf, type Message, type Reply, type ResourceRecord } from 'nodens';
import { fromFqdn } from '../pkg/dns-name.js';
import type { ResponseRule } from './rule.js';

function mapName(name: string, rule: { readonly map: (name: string) => string; readonly bare: boolean }): string {
  if (rule.bare) return rule.map(name);
  const full = fqdn(name);
  const mapped = rule.map(full);
  return mapped === full ? name : fromFqdn(mapped);
}

/** The record's value that names a domain (CNAME, DNAME, NS, PTR target, SRV target, MX exchange, SOA mname). */
function mapValue(rr: ResourceRecord, map: { readonly map: (name: string) => string; readonly bare: boolean }): ResourceRecord {
  switch (rr.type) {
    case 'CNAME': case 'DNAME': case 'NS': case 'PTR': {
      const data = mapName(rr.data, map);
      return data === rr.data ? rr : { ...rr, data };
    }
    case 'SRV': {
      const target = mapName(rr.data.target, map);
      return target === rr.data.target ? rr : { ...rr, data: { ...rr.data, target } };
    }
    case 'MX': {
      const exchange = mapName(rr.data.exchange, map);
      return exchange === rr.data.exchange ? rr : { ...rr, data: { ...rr.data, exchange } };
    }
    case 'SOA': {
      const mname = mapName(rr.data.mname, map);
      return mname === rr.data.mname ? rr : { ...rr, data: { ...rr.data, mname } };
    }
    default:
      return rr;
  }
}

function mapRecord(rr: ResourceRecord, rules: readonly ResponseRule[]): ResourceRecord {
  let out = rr;
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    switch (rule.kind) {
      case 'name': {
        const name = mapName(out.name, rule);
        if (name !== out.name) out = { ...out, name };
        break;
      }
      case 'value':
        out = mapValue(out, rule);
        break;
      case 'ttl':
        if (out.ttl < rule.min) out = { ...out, ttl: rule.min };
        else if (out.ttl > rule.max) out = { ...out, ttl: rule.max };
        break;
      default:
        break;
    }
  }
  return out;
}

function mapRecords(rrs: readonly ResourceRecord[], rules: readonly ResponseRule[]): readonly ResourceRecord[] {
  if (rrs.length === 0) return rrs;
  const out = new Array<ResourceRecord>(rrs.length);
  for (let i = 0; i < rrs.length; i++) out[i] = mapRecord(rrs[i]!, rules);
  return out;
}

/** The reply with the response rules applied (a new message; the reply given is not changed). */
export function mapReply(reply: Reply, rules: readonly ResponseRule[]): Message {
  const m = messageOf(reply);
  const out = { ...m, answer: mapRecords(m.answer, rules), authority: mapRecords(m.authority, rules), additional: mapRecords(m.additional, rules) };
  for (let i = rules.length - 1; i >= 0; i--) {
    const rule = rules[i]!;
    if (rule.kind === 'rcode' && out.rcode === rule.from) out.rcode = rule.to;
    const edns = out.edns;
    if (rule.kind === 'edns0' && edns?.options) {
      // `revert`: the option this rule added leaves the reply; one it replaced gets its old value back.
      const restore = rule.restore;
      const options = restore ? edns.options.map((o) => (o.code === rule.code ? restore : o)) : edns.options.filter((o) => o.code !== rule.code);
      out.edns = { ...edns, options };
    }
  }
  return out;
}
