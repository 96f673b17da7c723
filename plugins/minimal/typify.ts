// What kind of reply a message is, as CoreDNS's plugin/pkg/response/typify.go decides it.
import { Rcode, type Message, type ResourceRecord } from 'nodens';

export type ReplyKind = 'NOERROR' | 'NXDOMAIN' | 'SERVERERROR' | 'NODATA' | 'DELEGATION' | 'META' | 'UPDATE' | 'OTHERERROR';

const OPCODE_NOTIFY = 4;
const OPCODE_UPDATE = 5;

/** The kind of `m` at `now` (ms since the epoch; an expired RRSIG matters when the reply has DO set). */
export function replyKind(m: Message, now = Date.now()): ReplyKind {
  if (m.opcode === OPCODE_UPDATE) return 'UPDATE';
  if (m.opcode === OPCODE_NOTIFY) return 'META';
  const qtype = m.question[0]?.type;
  if (qtype === 'AXFR' || qtype === 'IXFR') return 'META';
  if (m.edns?.do && (hasExpiredSignature(m.answer, now) || hasExpiredSignature(m.authority, now) || hasExpiredSignature(m.additional, now))) {
    return 'OTHERERROR';
  }
  if (m.answer.length > 0 && m.rcode === Rcode.NOERROR) return 'NOERROR';
  if (m.answer.length > 0 && m.rcode === Rcode.NXDOMAIN) return 'OTHERERROR';
  let soa = false;
  let ns = 0;
  for (const r of m.authority) {
    if (r.type === 'SOA') soa = true;
    else if (r.type === 'NS') ns++;
  }
  if (soa && m.rcode === Rcode.NOERROR) return 'NODATA';
  if (m.rcode === Rcode.NXDOMAIN) return 'NXDOMAIN';
  if (m.rcode === Rcode.SERVFAIL || m.rcode === Rcode.NOTIMP) return 'SERVERERROR';
  if (ns > 0 && m.rcode === Rcode.NOERROR) return 'DELEGATION';
  if (m.rcode === Rcode.NOERROR) return 'NOERROR';
  return 'OTHERERROR';
}

const YEAR68 = 2 ** 31;

/** Is any RRSIG outside its validity period (miekg/dns RRSIG.ValidityPeriod, serial arithmetic)? */
function hasExpiredSignature(records: readonly ResourceRecord[], now: number): boolean {
  const utc = Math.floor(now / 1000);
  for (const r of records) {
    if (r.type !== 'OPAQUE' || r.rrtype !== 'RRSIG' || r.data.length < 16) continue;
    const view = new DataView(r.data.buffer, r.data.byteOffset, r.data.byteLength);
    const expiration = view.getUint32(8);
    const inception = view.getUint32(12);
    const ti = inception + Math.trunc((inception - utc) / YEAR68) * YEAR68;
    const te = expiration + Math.trunc((expiration - utc) / YEAR68) * YEAR68;
    if (!(ti <= utc && utc <= te)) return true;
  }
  return false;
}
