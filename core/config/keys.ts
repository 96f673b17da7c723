// Server block keys: `[dns://|tls://|https://]ZONE[:PORT]`, with CIDR zones expanded to reverse zones as CoreDNS does.
import { cidrToReverseZones } from '../ip.js';
import { normalizeZone } from '../zones.js';
import { errorAt } from './errors.js';
import type { ServerKey, ServerScheme, Token } from './types.js';

/** Schemes nodens serves. */
const SERVED_SCHEMES: readonly ServerScheme[] = ['dns', 'tls', 'https'];
/** Schemes CoreDNS knows that nodens does not serve. */
const OTHER_SCHEMES = ['quic', 'grpc', 'https3'];

/** One key token → its server keys (a CIDR gives one key per reverse zone). */
export function parseServerKey(tok: Token): ServerKey[] {
  let rest = tok.text;
  let scheme: ServerScheme = 'dns';
  const sep = rest.indexOf('://');
  if (sep >= 0) {
    const text = rest.slice(0, sep).toLowerCase();
    if (OTHER_SCHEMES.includes(text)) {
      errorAt(tok, undefined, `'${tok.text}': scheme ${text}:// not supported (nodens serves dns://, tls:// and https://)`, 'ERR_BAD_VALUE');
    }
    if (!SERVED_SCHEMES.includes(text as ServerScheme)) errorAt(tok, undefined, `'${tok.text}': unknown scheme ${text}:// (want dns://, tls:// or https://)`, 'ERR_BAD_VALUE');
    scheme = text as ServerScheme;
    rest = rest.slice(sep + 3);
  }
  const { host, port } = splitHostPort(rest, tok);
  const zones = host.includes('/') ? cidrToReverseZones(host) : [checkZone(host, tok)];
  if (!zones) errorAt(tok, undefined, `'${host}' is not a valid CIDR`, 'ERR_BAD_VALUE');
  return zones.map((zone) => (port === undefined ? { scheme, zone, pos: tok.pos } : { scheme, zone, port, pos: tok.pos }));
}

/** Every key of a block, in order. */
export function parseServerKeys(tokens: readonly Token[]): ServerKey[] {
  return tokens.flatMap(parseServerKey);
}

function splitHostPort(text: string, tok: Token): { host: string; port: number | undefined } {
  const colon = text.lastIndexOf(':');
  // An IPv6 CIDR (fd00::/64) has colons of its own: only a colon after the prefix length is a port.
  const slash = text.indexOf('/');
  const isPort = colon >= 0 && (slash >= 0 ? colon > slash : text.indexOf(':') === colon);
  if (!isPort) return { host: text, port: undefined };
  const portText = text.slice(colon + 1);
  if (!/^\d{1,5}$/.test(portText) || Number(portText) > 65535) {
    errorAt(tok, undefined, `'${tok.text}': bad port '${portText}' (want 0-65535)`, 'ERR_BAD_VALUE');
  }
  return { host: text.slice(0, colon), port: Number(portText) };
}

/** A normalised zone, refusing empty labels and over-long names. */
function checkZone(host: string, tok: Token): string {
  const zone = normalizeZone(host === '' ? '.' : host);
  if (zone === '') return zone;
  const labels = zone.split('.');
  if (zone.length > 253 || labels.some((l) => l === '' || l.length > 63) || /[\s"'{}]/.test(zone)) {
    errorAt(tok, undefined, `'${tok.text}' is not a valid zone`, 'ERR_BAD_VALUE');
  }
  return zone;
}
