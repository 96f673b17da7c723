// Domain name checks shared by plugins that make names from text (template's records, rewrite's targets).

/** Why `name` (no trailing dot; '' is the root) cannot be a domain name, or undefined when it can. */
export function nameProblem(name: string): string | undefined {
  if (name === '') return undefined;
  // ASCII names (nearly all) are checked by character codes, without splitting or encoding.
  let label = 0;
  for (let i = 0; i < name.length; i++) {
    const c = name.charCodeAt(i);
    if (c > 127) return nameProblemUtf8(name);
    if (c === 46) {
      if (label === 0) return `'${name}' has an empty label`;
      label = 0;
    } else if (++label > 63) {
      return `'${name}' has a label longer than 63 bytes`;
    }
  }
  if (label === 0) return `'${name}' has an empty label`;
  // 255 bytes on the wire: a length byte per label plus the root's zero.
  return name.length + 2 > 255 ? `'${name}' is longer than 255 bytes` : undefined;
}

function nameProblemUtf8(name: string): string | undefined {
  if (Buffer.byteLength(name) + 2 > 255) return `'${name}' is longer than 255 bytes`;
  for (const label of name.split('.')) {
    if (label.length === 0) return `'${name}' has an empty label`;
    if (Buffer.byteLength(label) > 63) return `'${name}' has a label longer than 63 bytes`;
  }
  return undefined;
}

/** `name.` without its dot, '.' as the root (''): the form nodens keeps names in. */
export function fromFqdn(name: string): string {
  return name === '.' ? '' : name.endsWith('.') ? name.slice(0, -1) : name;
}
