// Domain name checks shared by plugins that make names from text (template's records, rewrite's targets).

/** Why `name` (no trailing dot; '' is the root) cannot be a domain name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return undefined;
  // 255 bytes on the wire: a length byte per label plus the root's zero.
  if (Buffer.byteLength(name) + 2 > 255) return `'${name}' is longer than 255 bytes`;
  let start = 0;
  for (;;) {
    const dot = name.indexOf('.', start);
    const label = dot < 0 ? name.slice(start) : name.slice(start, dot);
    if (label.length === 0) return `'${name}' has an empty label`;
    if (Buffer.byteLength(label) > 63) return `'${name}' has a label longer than 63 bytes`;
    if (dot < 0) return undefined;
    start = dot + 1;
  }
}

/** `name.` without its dot, '.' as the root (''): the form nodens keeps names in. */
export function fromFqdn(name: string): string {
  return name === '.' ? '' : name.endsWith('.') ? name.slice(0, -1) : name;
}
