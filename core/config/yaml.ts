// The YAML config: the Corefile's model as data, with every node's line:col kept for error messages.
//   servers:
//     - zones: ['cluster.local:53', 'in-addr.arpa:53']
//       bind: [127.0.0.1]
//       plugins:
//         - errors
//         - forward: { to: ['8.8.8.8'] }
import { type Document, isMap, isScalar, isSeq, LineCounter, type Node, parseDocument, type YAMLError, type YAMLMap } from 'yaml';
import type { Collector } from './collect.js';
import { ConfigError, didYouMean, errorAt } from './errors.js';
import type { Position, Token } from './types.js';
import type { Locate } from './validate.js';

export interface YamlPlugin {
  readonly name: Token;
  readonly options: unknown;
  /** Where a path into the options stands in the YAML text. */
  readonly locate: Locate;
}

export interface YamlServer {
  readonly keys: readonly Token[];
  readonly bind: readonly Token[];
  readonly plugins: readonly YamlPlugin[];
  readonly pos: Position;
}

const TOP_KEYS = ['servers', 'workers'];
const SERVER_KEYS = ['zones', 'bind', 'plugins'];

/** The top-level `workers:` of a YAML config (validated by parseYamlConfig), if any. */
export function yamlWorkers(text: string): number | undefined {
  const root = parseDocument(text).contents;
  const v = isMap(root) ? root.get('workers') : undefined;
  return typeof v === 'number' ? v : undefined;
}

/** The servers of a YAML config; errors of one server or plugin are kept in `errors` and the rest read on. */
export function parseYamlConfig(text: string, file: string, errors: Collector): YamlServer[] {
  const lc = new LineCounter();
  const doc = parseDocument(text, { lineCounter: lc, prettyErrors: false });
  const at = (offset: number | undefined): Position => {
    const { line, col } = lc.linePos(offset ?? 0);
    return { file, line, col };
  };
  const posOf = (node: Node | null | undefined): Position => at(node?.range?.[0]);
  if (doc.errors.length > 0) {
    // The parser recovers badly after the first error: later ones are mostly its echoes.
    const e = doc.errors[0]!;
    throw new ConfigError(at(errorOffset(text, e)), undefined, `YAML: ${plainWords(e)}`, 'ERR_YAML');
  }
  const root = doc.contents;
  if (!isMap(root)) errorAt(posOf(root), undefined, 'the YAML config must be a map with a servers list', 'ERR_SCHEMA');
  checkKeys(root, TOP_KEYS, at);
  const workers = root.get('workers', true) as Node | undefined;
  if (workers && !(isScalar(workers) && Number.isInteger(workers.value) && (workers.value as number) >= 0)) {
    errorAt(posOf(workers), undefined, 'workers must be a whole number (0: one per core)', 'ERR_SCHEMA');
  }
  const servers = root.get('servers', true) as Node | undefined;
  if (!isSeq(servers)) errorAt(servers ? posOf(servers) : posOf(root), undefined, 'servers must be a list of server blocks', 'ERR_SCHEMA');
  const out: YamlServer[] = [];
  for (const item of servers.items) {
    const server = errors.run(() => readServer(item as Node, at, posOf, doc, errors));
    if (server) out.push(server);
  }
  return out;
}

/**
 * Where to point for a parse error: an unclosed quote at its opening quote (the parser reports the end of the
 * text), an indentation error at the line's first character rather than its first column.
 */
function errorOffset(text: string, e: YAMLError): number {
  let offset = e.pos[0];
  if (e.code === 'MISSING_CHAR' && /quote/i.test(e.message)) {
    const quote = /"/.test(e.message) ? '"' : "'";
    const open = text.lastIndexOf(quote, Math.min(offset, text.length - 1));
    if (open >= 0) return open;
  }
  while (offset < text.length && text[offset] === ' ' && (offset === 0 || text[offset - 1] === '\n' || text[offset - 1] === ' ')) offset++;
  return offset;
}

/** The parser's complaint in a user's words (its own text names its internals: "flow collection", "implicit key"). */
function plainWords(e: YAMLError): string {
  const raw = e.message.split('\n')[0]!;
  switch (e.code) {
    case 'TAB_AS_INDENT': return 'a tab is used for indentation; YAML indents with spaces only';
    case 'DUPLICATE_KEY': return 'this key is already set in the same map';
    case 'BAD_INDENT':
      if (/end with a \]/.test(raw)) return "a '[' list is not closed with ']' (or the line after it is not indented enough)";
      if (/end with a \}/.test(raw)) return "a '{' map is not closed with '}' (or the line after it is not indented enough)";
      return 'the indentation here does not match the lines around it';
    case 'MISSING_CHAR':
      if (/quote/i.test(raw)) return 'a quoted string is not closed';
      if (/Sequence item/.test(raw)) return 'the indentation here does not match the lines above (keys of one map start in the same column)';
      return `something is missing here (${raw.toLowerCase()})`;
    case 'BLOCK_AS_IMPLICIT_KEY':
    case 'MULTILINE_IMPLICIT_KEY':
      return "a key runs over more than one line: is a ':' missing, or the indentation off?";
    case 'BAD_SCALAR_START': return 'a value cannot start with this character here; put it in quotes';
    case 'MULTIPLE_DOCS': return "more than one document ('---'); the config is one document";
    case 'UNEXPECTED_TOKEN': return 'unexpected character here (check the indentation and the quotes)';
    default: return `cannot read this (${raw})`;
  }
}

function readServer(node: Node, at: (o: number | undefined) => Position, posOf: (n: Node | null | undefined) => Position, doc: Document, errors: Collector): YamlServer {
  if (!isMap(node)) errorAt(posOf(node), undefined, 'a server must be a map with zones and plugins', 'ERR_SCHEMA');
  errors.run(() => checkKeys(node, SERVER_KEYS, at));
  const zones = node.get('zones', true) as Node | undefined;
  if (!zones) errorAt(posOf(node), undefined, "a server needs 'zones'", 'ERR_SCHEMA');
  const keys = scalarList(zones, 'zones', posOf);
  if (keys.length === 0) errorAt(posOf(zones), undefined, 'zones must not be empty', 'ERR_SCHEMA');
  const bindNode = node.get('bind', true) as Node | undefined;
  const bind = bindNode ? scalarList(bindNode, 'bind', posOf) : [];
  const pluginsNode = node.get('plugins', true) as Node | undefined;
  const plugins: YamlPlugin[] = [];
  if (pluginsNode && !(isScalar(pluginsNode) && pluginsNode.value === null)) {
    if (!isSeq(pluginsNode)) errorAt(posOf(pluginsNode), undefined, 'plugins must be a list of one-key maps (- NAME: OPTIONS)', 'ERR_SCHEMA');
    for (const p of pluginsNode.items) {
      const plugin = errors.run(() => readPlugin(p as Node, posOf, doc));
      if (plugin) plugins.push(plugin);
    }
  }
  return { keys, bind, plugins, pos: posOf(node) };
}

/** `- NAME` or `- NAME: OPTIONS` (null options: {}). */
function readPlugin(node: Node, posOf: (n: Node | null | undefined) => Position, doc: Document): YamlPlugin {
  if (isScalar(node) && typeof node.value === 'string') {
    return { name: { text: node.value, pos: posOf(node) }, options: {}, locate: () => posOf(node) };
  }
  if (!isMap(node) || node.items.length !== 1) errorAt(posOf(node), undefined, 'a plugin must be a one-key map (- NAME: OPTIONS)', 'ERR_SCHEMA');
  const pair = node.items[0]!;
  const keyNode = pair.key as Node;
  const name = { text: String(isScalar(keyNode) ? keyNode.value : keyNode), pos: posOf(keyNode) };
  const value = pair.value as Node | null;
  const options: unknown = value === null || (isScalar(value) && value.value === null) ? {} : value.toJS(doc);
  const locate: Locate = (path, atKey) => posOf(find(value, path, atKey) ?? keyNode);
  return { name, options, locate };
}

/** The node at `path` below `node` (the key node when `atKey`), or the deepest one that exists. */
function find(node: Node | null, path: readonly (string | number)[], atKey: boolean): Node | null {
  let cur = node;
  for (let i = 0; i < path.length && cur; i++) {
    const seg = path[i]!;
    if (isMap(cur)) {
      const pair = (cur as YAMLMap).items.find((p) => isScalar(p.key) && String(p.key.value) === String(seg));
      if (!pair) return cur;
      if (atKey && i === path.length - 1) return pair.key as Node;
      cur = (pair.value as Node | null) ?? (pair.key as Node);
    } else if (isSeq(cur) && typeof seg === 'number') {
      const next = cur.items[seg] as Node | undefined;
      if (!next) return cur;
      cur = next;
    } else {
      return cur;
    }
  }
  return cur;
}

function scalarList(node: Node, what: string, posOf: (n: Node | null | undefined) => Position): Token[] {
  const items = isSeq(node) ? (node.items as Node[]) : [node];
  return items.map((n) => {
    if (!isScalar(n) || n.value === null || typeof n.value === 'object') errorAt(posOf(n), undefined, `${what} must be a list of strings`, 'ERR_SCHEMA');
    return { text: String(n.value), pos: posOf(n) };
  });
}

function checkKeys(map: YAMLMap, known: readonly string[], at: (o: number | undefined) => Position): void {
  for (const pair of map.items) {
    const key = isScalar(pair.key) ? String(pair.key.value) : String(pair.key);
    if (known.includes(key)) continue;
    const guess = didYouMean(key, known);
    const range = (pair.key as Node | null)?.range;
    errorAt(at(range?.[0]), undefined, `unknown key '${key}' (want ${known.join(', ')})${guess ? ` (did you mean '${guess}'?)` : ''}`, 'ERR_SCHEMA');
  }
}
