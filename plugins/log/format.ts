// The log line format: CoreDNS's placeholders compiled once into a list of parts, and the response
// classes (success, denial, error) as CoreDNS's response.Typify/Classify decide them.
import { fqdn, isWireReply, rcodeName, type Reply } from '../../core/message.js';
import type { Done, Request } from '../../core/plugin.js';
import { scanMessage } from '../../core/wire.js';

/** CoreDNS's Common Log Format. */
export const COMMON_FORMAT = '{remote}:{port} - {>id} "{type} {class} {name} {proto} {size} {>do} {>bufsize}" {rcode} {>rflags} {rsize} {duration}';
export const COMBINED_FORMAT = `${COMMON_FORMAT} "{>opcode}"`;
/** What a placeholder without a value prints. */
const EMPTY = '-';

type Part = string | ((req: Request, done: Done) => string);

/**
 * `[::1]` for IPv6, as a URL writes an address (RFC 3986). An IPv4 client on a dual-stack socket
 * (`::ffff:10.0.0.1`) prints as IPv4, as Go (and so CoreDNS) prints it.
 */
export function bracketed(address: string): string {
  if (!address.includes(':')) return address;
  if (address.startsWith('::ffff:') && address.includes('.')) return address.slice(7);
  return `[${address}]`;
}

/** Seconds with up to nanosecond digits and no exponent, as Go's FormatFloat(s, 'f', -1, 64) prints a Duration. */
export function formatDuration(ms: number): string {
  const ns = Math.max(0, Math.round(ms * 1e6));
  const text = (ns / 1e9).toFixed(9).replace(/0+$/, '').replace(/\.$/, '');
  return `${text}s`;
}

/** Response flags as CoreDNS prints them: "qr,aa,rd,ra". */
export function replyFlags(req: Request, done: Done): string {
  const r = done.reply;
  if (r === undefined) return EMPTY;
  let qr: boolean, aa: boolean, tc: boolean, rd: boolean, ra: boolean, z: boolean, ad: boolean, cd: boolean;
  if (isWireReply(r)) {
    const hi = r.wire[2]!;
    const lo = r.wire[3]!;
    qr = (hi & 0x80) !== 0; aa = (hi & 0x04) !== 0; tc = (hi & 0x02) !== 0; rd = (hi & 0x01) !== 0;
    ra = (lo & 0x80) !== 0; z = (lo & 0x40) !== 0; ad = (lo & 0x20) !== 0; cd = (lo & 0x10) !== 0;
  } else {
    // The server sets QR and copies RD and CD from the query when it sends a Message.
    qr = true; aa = r.aa; tc = r.tc; rd = req.query.rd; ra = r.ra; z = false; ad = r.ad; cd = req.query.cd;
  }
  tc ||= done.truncated;
  const flags: string[] = [];
  if (qr) flags.push('qr');
  if (aa) flags.push('aa');
  if (tc) flags.push('tc');
  if (rd) flags.push('rd');
  if (ra) flags.push('ra');
  if (z) flags.push('z');
  if (ad) flags.push('ad');
  if (cd) flags.push('cd');
  return flags.join(',');
}

const RCODE_TEXT: Record<number, string> = { 7: 'YXRRSET', 8: 'NXRRSET', 10: 'NOTZONE' };
function rcodeText(rcode: number): string {
  const name = RCODE_TEXT[rcode] ?? rcodeName(rcode);
  return name.startsWith('RCODE') ? String(rcode) : name;
}

const PLACEHOLDERS: Record<string, (req: Request, done: Done) => string> = {
  type: (req) => req.qtype,
  name: (req) => fqdn(req.qname),
  class: (req) => req.qclass,
  proto: (req) => req.client.transport,
  remote: (req) => bracketed(req.client.address),
  local: (req) => bracketed(req.local.address),
  port: (req) => String(req.client.port),
  size: (req) => String(req.size),
  duration: (_req, done) => formatDuration(done.durationMs),
  rcode: (_req, done) => (done.reply === undefined ? EMPTY : rcodeText(done.rcode)),
  rsize: (_req, done) => String(done.size),
  '>rflags': replyFlags,
  '>bufsize': (req) => String(req.udpSize),
  '>do': (req) => String(req.do),
  '>id': (req) => String(req.query.id),
  '>opcode': (req) => String(req.query.opcode),
};

/** Compiles a format once; the result renders one line per query without re-parsing it. */
export function compileFormat(format: string): (req: Request, done: Done) => string {
  const expanded = format.replaceAll('{common}', COMMON_FORMAT).replaceAll('{combined}', COMBINED_FORMAT);
  const parts: Part[] = [];
  let literal = '';
  let i = 0;
  while (i < expanded.length) {
    const open = expanded.indexOf('{', i);
    const close = open < 0 ? -1 : expanded.indexOf('}', open);
    if (open < 0 || close < 0) {
      literal += expanded.slice(i);
      break;
    }
    literal += expanded.slice(i, open);
    const key = expanded.slice(open + 1, close);
    const fn = PLACEHOLDERS[key];
    if (fn) {
      if (literal) parts.push(literal);
      literal = '';
      parts.push(fn);
    } else if (key.startsWith('/')) {
      // A metadata label (`{/kubernetes/client-namespace}`): read when the line is written, after
      // the chain has run, so a value published by any plugin (or computed lazily) is there.
      if (literal) parts.push(literal);
      literal = '';
      const label = key.slice(1);
      parts.push((req) => req.metadata.get(label) ?? EMPTY);
    } else {
      literal += `{${key}}`; // unknown placeholders stay as written, as CoreDNS's replacer leaves them
    }
    i = close + 1;
  }
  if (literal) parts.push(literal);
  return (req, done) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : p(req, done);
    return out;
  };
}

export type ResponseClass = 'success' | 'denial' | 'error' | 'all';
export const RESPONSE_CLASSES: readonly ResponseClass[] = ['all', 'success', 'denial', 'error'];

/**
 * The class of a reply (CoreDNS's response.Typify then Classify): NOERROR with answers, a
 * delegation or no SOA is success; NOERROR or NXDOMAIN with an SOA is denial; other rcodes are
 * errors. Zone transfers and updates belong to no class but `all`.
 */
export function classify(req: Request, reply: Reply | undefined): ResponseClass {
  if (reply === undefined) return 'error';
  if (req.query.opcode === 5 || req.qtype === 'AXFR' || req.qtype === 'IXFR') return 'all';
  let rcode: number, answers: number, soa: boolean;
  if (isWireReply(reply)) {
    try {
      const scan = scanMessage(reply.wire);
      rcode = scan.rcode;
      answers = scan.counts[1];
      soa = scan.soa !== undefined;
    } catch {
      return 'error';
    }
  } else {
    rcode = reply.rcode;
    answers = reply.answer.length;
    soa = reply.authority.some((r) => r.type === 'SOA');
  }
  if (rcode === 0 && (answers > 0 || !soa)) return 'success';
  if (soa && (rcode === 0 || rcode === 3)) return 'denial';
  return 'error';
}

/**
 * The query line as JSON fields (`--log-format json`): one per CoreDNS placeholder of the Common Log
 * Format, typed (numbers as numbers, `do` a boolean, `duration` in seconds). docs/log-schema.json.
 */
export function queryFields(req: Request, done: Done): Record<string, string | number | boolean | null> {
  return {
    remote: bracketed(req.client.address),
    port: req.client.port,
    id: req.query.id,
    type: req.qtype,
    class: req.qclass,
    name: fqdn(req.qname),
    proto: req.client.transport,
    size: req.size,
    do: req.do,
    bufsize: req.udpSize,
    rcode: done.reply === undefined ? null : rcodeText(done.rcode),
    rflags: done.reply === undefined ? null : replyFlags(req, done),
    rsize: done.size,
    duration: Math.max(0, Math.round(done.durationMs * 1e6)) / 1e9,
  };
}
