// One resource record from RFC 1035 zone-file text, as miekg/dns's NewRR reads a template's output:
// `NAME [TTL] [CLASS] TYPE RDATA`, TTL and class in either order (TTL 3600 and class IN when left out),
// names without a final dot taken from the root, `( ... )` spanning, `;` comments, quoted strings.
import { isIP } from 'node:net';
import type { ResourceRecord } from 'nodens';
import { fromFqdn, nameProblem } from '../pkg/dns-name.js';

export class RecordSyntaxError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'RecordSyntaxError';
  }
}

const CLASSES = new Set(['IN', 'CH', 'CS', 'HS', 'NONE', 'ANY']);
const DEFAULT_TTL = 3600;

/** Splits zone-file text into fields: quoted strings keep their spaces, parentheses and comments vanish. */
function fields(text: string): { text: string; quoted: boolean }[] {
  const out: { text: string; quoted: boolean }[] = [];
  let i = 0;
  let depth = 0;
  while (i < text.length) {
    const c = text[i]!;
    if (c === ';') {
      const nl = text.indexOf('\n', i);
      i = nl < 0 ? text.length : nl;
    } else if (c === '(') {
      depth++;
      i++;
    } else if (c === ')') {
      if (--depth < 0) throw new RecordSyntaxError('unbalanced ")"');
      i++;
    } else if (c === '\n' && depth === 0 && out.length > 0 && text.slice(i).trim() !== '') {
      throw new RecordSyntaxError('more than one record (a newline outside parentheses)');
    } else if (/\s/.test(c)) {
      i++;
    } else if (c === '"') {
      let s = '';
      for (i++; i < text.length && text[i] !== '"'; i++) {
        if (text[i] === '\\' && i + 1 < text.length) i++;
        s += text[i];
      }
      if (i >= text.length) throw new RecordSyntaxError('unterminated quoted string');
      i++;
      out.push({ text: s, quoted: true });
    } else {
      const m = /[^\s();"]+/y;
      m.lastIndex = i;
      const word = m.exec(text)![0];
      out.push({ text: word, quoted: false });
      i += word.length;
    }
  }
  if (depth !== 0) throw new RecordSyntaxError('unbalanced "("');
  return out;
}

/** A domain name field: relative names are taken from the root (NewRR's origin is "."). */
function domain(word: string | undefined, what: string): string {
  if (word === undefined) throw new RecordSyntaxError(`missing ${what}`);
  const name = word === '@' ? '' : fromFqdn(word);
  const problem = nameProblem(name);
  if (problem) throw new RecordSyntaxError(`bad ${what}: ${problem}`);
  return name;
}

function uint(word: string | undefined, what: string, max: number): number {
  if (word === undefined || !/^\d+$/.test(word) || Number(word) > max) throw new RecordSyntaxError(`bad ${what}: '${word ?? ''}'`);
  return Number(word);
}

/** Parses one record; throws RecordSyntaxError saying what is wrong. */
export function parseRecord(text: string): ResourceRecord {
  const f = fields(text);
  if (f.length === 0) throw new RecordSyntaxError('empty record');
  const name = domain(f[0]!.text, 'owner name');
  let i = 1;
  let ttl: number | undefined;
  let cls: string | undefined;
  for (; i < f.length && i <= 2; i++) {
    const w = f[i]!.text;
    if (ttl === undefined && /^\d+$/.test(w)) ttl = uint(w, 'TTL', 2 ** 31 - 1);
    else if (cls === undefined && (CLASSES.has(w.toUpperCase()) || /^CLASS\d+$/i.test(w))) cls = w.toUpperCase();
    else break;
  }
  const type = f[i]?.text.toUpperCase();
  if (type === undefined) throw new RecordSyntaxError('no type (want NAME [TTL] [CLASS] TYPE RDATA)');
  const rdata = f.slice(i + 1);
  const w = rdata.map((x) => x.text);
  const h = { name, ttl: ttl ?? DEFAULT_TTL, class: cls ?? 'IN' };
  const arity = (n: number): void => {
    if (rdata.length !== n) throw new RecordSyntaxError(`${type} wants ${n} rdata field${n === 1 ? '' : 's'}, got ${rdata.length}`);
  };
  switch (type) {
    case 'A': case 'AAAA': {
      arity(1);
      if (isIP(w[0]!) !== (type === 'A' ? 4 : 6)) throw new RecordSyntaxError(`bad ${type} address: '${w[0]}'`);
      return { ...h, type, data: w[0]! };
    }
    case 'CNAME': case 'NS': case 'PTR': case 'DNAME':
      arity(1);
      return { ...h, type, data: domain(w[0], `${type} target`) };
    case 'MX':
      arity(2);
      return { ...h, type, data: { preference: uint(w[0], 'MX preference', 65535), exchange: domain(w[1], 'MX exchange') } };
    case 'SRV':
      arity(4);
      return {
        ...h, type,
        data: { priority: uint(w[0], 'SRV priority', 65535), weight: uint(w[1], 'SRV weight', 65535), port: uint(w[2], 'SRV port', 65535), target: domain(w[3], 'SRV target') },
      };
    case 'TXT':
      if (rdata.length === 0) throw new RecordSyntaxError('TXT wants at least one string');
      for (const s of w) if (Buffer.byteLength(s) > 255) throw new RecordSyntaxError('a TXT string is longer than 255 bytes');
      return { ...h, type, data: w };
    case 'HINFO':
      arity(2);
      return { ...h, type, data: { cpu: w[0]!, os: w[1]! } };
    case 'SOA': {
      arity(7);
      const n = (k: number, what: string): number => uint(w[k], `SOA ${what}`, 2 ** 32 - 1);
      return {
        ...h, type,
        data: {
          mname: domain(w[0], 'SOA mname'), rname: domain(w[1], 'SOA rname'),
          serial: n(2, 'serial'), refresh: n(3, 'refresh'), retry: n(4, 'retry'), expire: n(5, 'expire'), minimum: n(6, 'minimum'),
        },
      };
    }
    default:
      throw new RecordSyntaxError(`type ${type} is not supported (A AAAA CNAME NS PTR DNAME MX SRV TXT HINFO SOA are)`);
  }
}
