// Strict checks of an untrusted message (an upstream's reply) before anyone caches or sends it: one pass over
// the bytes, no allocation. Every name well-formed (labels of 1 to 63 bytes, at most 255 bytes in all,
// compression pointers only backwards, so no loop), every record whole, the section counts matching the
// bytes exactly with nothing after the last record, and the RDATA of the common types filling its length.
// scanMessage (wire.ts) trusts what it walks: it skips pointers without following them.

const MAX_NAME = 255;

/** Why the last checkName failed (a constant string: failing allocates nothing). */
let why = '';

/**
 * Checks the name at `pos`, whose bytes in place must end by `limit`; returns the offset just past them,
 * or -1 (see `why`). Each pointer must point before the start of the piece of name that holds it, so
 * the pieces start ever earlier and a walk always ends.
 */
function checkName(buf: Uint8Array, pos: number, limit: number): number {
  let p = pos;
  let floor = pos;
  let end = -1;
  let len = 1;
  for (;;) {
    if (p >= (end < 0 ? limit : buf.length)) return fail('a name runs past its end');
    const l = buf[p]!;
    if (l === 0) return end < 0 ? p + 1 : end;
    if ((l & 0xc0) === 0xc0) {
      if (p + 1 >= (end < 0 ? limit : buf.length)) return fail('a compression pointer runs past its end');
      const target = ((l & 0x3f) << 8) | buf[p + 1]!;
      if (target < 12 || target >= floor) return fail('a compression pointer does not point backwards');
      if (end < 0) end = p + 2;
      p = floor = target;
      continue;
    }
    if (l & 0xc0) return fail('a label has an unknown type');
    len += l + 1;
    if (len > MAX_NAME) return fail('a name is longer than 255 bytes');
    p += l + 1;
  }
}

function fail(reason: string): -1 {
  why = reason;
  return -1;
}

function bad(reason: string): false {
  why = reason;
  return false;
}

/** Does a name exactly fill [pos, end)? */
function nameFills(buf: Uint8Array, pos: number, end: number): boolean {
  const after = checkName(buf, pos, end);
  if (after >= 0 && after !== end) why = 'RDATA has bytes after its name';
  return after === end;
}

/** Checks the RDATA of the types whose layout is fixed or holds names; others are opaque bytes. */
function checkRdata(buf: Uint8Array, type: number, cls: number, rd: number, end: number): boolean {
  const len = end - rd;
  switch (type) {
    case 1: // A
      return cls !== 1 || len === 4 || bad('an A record is not 4 bytes');
    case 28: // AAAA
      return cls !== 1 || len === 16 || bad('an AAAA record is not 16 bytes');
    case 2: case 5: case 12: case 39: // NS, CNAME, PTR, DNAME
      return nameFills(buf, rd, end);
    case 15: // MX
      return (len > 2 || bad('an MX record is too short')) && nameFills(buf, rd + 2, end);
    case 33: // SRV
      return cls !== 1 || ((len > 6 || bad('an SRV record is too short')) && nameFills(buf, rd + 6, end));
    case 6: { // SOA: two names, then five 32-bit numbers
      const r = checkName(buf, rd, end);
      const m = r < 0 ? -1 : checkName(buf, r, end);
      return m >= 0 && (m + 20 === end || bad('an SOA record has the wrong length'));
    }
    case 16: { // TXT: character-strings filling the RDATA
      if (len === 0) return bad('a TXT record is empty');
      let p = rd;
      while (p < end) p += 1 + buf[p]!;
      return p === end || bad('a TXT string runs past its record');
    }
    case 41: { // OPT: options, each code, length, data
      let p = rd;
      while (p + 4 <= end) p += 4 + ((buf[p + 2]! << 8) | buf[p + 3]!);
      return p === end || bad('an EDNS option runs past the OPT record');
    }
    default:
      return true;
  }
}

/** Why `buf` is not a well-formed DNS message, or undefined when it is. */
export function checkMessage(buf: Uint8Array): string | undefined {
  const n = buf.length;
  if (n < 12) return 'shorter than a header';
  const qd = (buf[4]! << 8) | buf[5]!;
  const an = (buf[6]! << 8) | buf[7]!;
  const ns = (buf[8]! << 8) | buf[9]!;
  const ar = (buf[10]! << 8) | buf[11]!;
  let p = 12;
  for (let i = 0; i < qd; i++) {
    p = checkName(buf, p, n);
    if (p < 0) return why;
    p += 4;
    if (p > n) return 'the question runs past the message';
  }
  let opt = false;
  const total = an + ns + ar;
  for (let i = 0; i < total; i++) {
    const owner = p;
    p = checkName(buf, p, n);
    if (p < 0) return why;
    if (p + 10 > n) return 'a record runs past the message (a count says more records than there are)';
    const type = (buf[p]! << 8) | buf[p + 1]!;
    const cls = (buf[p + 2]! << 8) | buf[p + 3]!;
    const rd = p + 10;
    const end = rd + ((buf[p + 8]! << 8) | buf[p + 9]!);
    if (end > n) return 'RDATA runs past the message';
    if (type === 41) {
      if (i < an + ns || opt || buf[owner] !== 0) return 'an OPT record that is not the one OPT of the additional section';
      opt = true;
    }
    if (!checkRdata(buf, type, cls, rd, end)) return why;
    p = end;
  }
  if (p !== n) return 'bytes after the last record (the counts say fewer records than there are)';
  return undefined;
}
