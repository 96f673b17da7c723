// EDNS options for plugin authors: reading a query's options, adding options (NSID, RFC 8914
// Extended DNS Errors) to a reply. The finishing step puts a reply's options in the OPT it sends,
// when the client sent EDNS.
import { WireReply, type EdnsOption, type Message, type Reply } from './message.js';
import type { Request } from './plugin.js';

/** EDNS option codes (IANA "DNS EDNS0 Option Codes"). */
export const EdnsCode = {
  NSID: 3,
  ClientSubnet: 8,
  Expire: 9,
  Cookie: 10,
  TcpKeepalive: 11,
  Padding: 12,
  ExtendedError: 15,
} as const;

/** RFC 8914 Extended DNS Error info codes (and the IANA registry's later ones). */
export const EdeCode = {
  OtherError: 0,
  UnsupportedDnskeyAlgorithm: 1,
  UnsupportedDsDigestType: 2,
  StaleAnswer: 3,
  ForgedAnswer: 4,
  DnssecIndeterminate: 5,
  DnssecBogus: 6,
  SignatureExpired: 7,
  SignatureNotYetValid: 8,
  DnskeyMissing: 9,
  RrsigsMissing: 10,
  NoZoneKeyBitSet: 11,
  NsecMissing: 12,
  CachedError: 13,
  NotReady: 14,
  Blocked: 15,
  Censored: 16,
  Filtered: 17,
  Prohibited: 18,
  StaleNxdomainAnswer: 19,
  NotAuthoritative: 20,
  NotSupported: 21,
  NoReachableAuthority: 22,
  NetworkError: 23,
  InvalidData: 24,
  SignatureExpiredBeforeValid: 25,
  TooEarly: 26,
  UnsupportedNsec3IterationsValue: 27,
  UnableToConformToPolicy: 28,
  Synthesized: 29,
  InvalidQueryType: 30,
} as const;

/** The query's first option with this code, if it sent one. */
export function ednsOption(req: Request, code: number): EdnsOption | undefined {
  for (const o of req.ednsOptions) if (o.code === code) return o;
  return undefined;
}

/** The options a reply carries to the client (those a plugin added; a wire reply's own OPT is replaced). */
export function replyEdnsOptions(reply: Reply): readonly EdnsOption[] {
  return (reply instanceof WireReply ? reply.options : reply.edns?.options) ?? [];
}

/**
 * `reply` with one more EDNS option. A Message is copied; a WireReply is wrapped anew around the
 * same bytes (use the returned one, not the old one). Options are sent only to clients that sent EDNS.
 */
export function withEdnsOption(reply: Reply, option: EdnsOption): Reply {
  if (reply instanceof WireReply) return new WireReply(reply.wire, reply.layout, [...(reply.options ?? []), option]);
  const edns = reply.edns ?? { udpSize: 1232, do: false, version: 0 };
  const message: Message = { ...reply, edns: { ...edns, options: [...(edns.options ?? []), option] } };
  return message;
}

/** The RFC 8914 option: INFO-CODE, then EXTRA-TEXT (UTF-8, not NUL-terminated). */
export function extendedErrorOption(infoCode: number, extraText = ''): EdnsOption {
  const text = Buffer.from(extraText, 'utf8');
  const data = Buffer.alloc(2 + text.length);
  data.writeUInt16BE(infoCode & 0xffff, 0);
  text.copy(data, 2);
  return { code: EdnsCode.ExtendedError, data };
}

/** `reply` with an Extended DNS Error (RFC 8914): `withExtendedError(reply, EdeCode.StaleAnswer)`. */
export function withExtendedError(reply: Reply, infoCode: number, extraText?: string): Reply {
  return withEdnsOption(reply, extendedErrorOption(infoCode, extraText));
}

/** The Extended DNS Errors in a list of options (a decoded reply's `edns.options`), for tests and logs. */
export function extendedErrors(options: readonly EdnsOption[] | undefined): { infoCode: number; extraText: string }[] {
  const out: { infoCode: number; extraText: string }[] = [];
  for (const o of options ?? []) {
    if (o.code !== EdnsCode.ExtendedError || o.data.length < 2) continue;
    const data = Buffer.from(o.data.buffer, o.data.byteOffset, o.data.byteLength);
    out.push({ infoCode: data.readUInt16BE(0), extraText: data.toString('utf8', 2) });
  }
  return out;
}
