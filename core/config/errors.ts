// ConfigError: every config problem names file:line:col, the plugin, what is wrong, and a stable code.
// ConfigErrors: every independent problem of one run, in file order (the loader collects them).
import type { Position, Token } from './types.js';

/** Stable codes, one per family of message; docs/errors.md has a section for each (a test checks). */
export type ConfigErrorCode =
  | 'ERR_SYNTAX'
  | 'ERR_UNCLOSED_BRACE'
  | 'ERR_UNEXPECTED_BRACE'
  | 'ERR_UNKNOWN_DIRECTIVE'
  | 'ERR_UNKNOWN_PROPERTY'
  | 'ERR_ARG_COUNT'
  | 'ERR_BAD_VALUE'
  | 'ERR_DUPLICATE'
  | 'ERR_IMPORT'
  | 'ERR_FILE'
  | 'ERR_SCHEMA'
  | 'ERR_YAML'
  | 'ERR_KEY_IS_DIRECTIVE'
  | 'ERR_ZONE_LOOKS_LIKE_NUMBER';

/** Stable codes of warnings: the config loads, but probably not as meant. */
export type ConfigWarningCode = 'WARN_EMPTY_CHAIN' | 'WARN_UNREACHABLE' | 'WARN_IMPORT_GLOB';

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly pos: Position | undefined;
  readonly plugin: string | undefined;
  /** The message without position and plugin prefix. */
  readonly detail: string;
  /** The offending source line, for a caret under the column, when known. */
  sourceLine?: string;

  constructor(pos: Position | undefined, plugin: string | undefined, detail: string, code: ConfigErrorCode = 'ERR_BAD_VALUE') {
    detail = withoutPluginPrefix(detail, plugin);
    const where = pos ? `${formatPosition(pos)}: ` : '';
    const who = plugin ? `plugin/${plugin}: ` : '';
    super(`${where}${who}${detail}`);
    this.name = 'ConfigError';
    this.code = code;
    this.pos = pos;
    this.plugin = plugin;
    this.detail = detail;
  }

  /** The message with the source line and a caret under the column, when the line is known. */
  pretty(): string {
    return withCaret(this.message, this.pos, this.sourceLine);
  }
}

/**
 * Every error of one load, in file order. It is itself the first of them (message, pos, code), so code
 * that only wants one error reads it as one; `errors` has them all and `report()` prints them all.
 */
export class ConfigErrors extends ConfigError {
  readonly errors: readonly ConfigError[];
  /** True when more errors were found than the cap kept. */
  readonly truncated: boolean;
  readonly file: string;

  constructor(errors: readonly ConfigError[], file: string, truncated = false) {
    const first = errors[0]!;
    super(first.pos, first.plugin, first.detail, first.code);
    this.name = 'ConfigErrors';
    this.errors = errors;
    this.truncated = truncated;
    this.file = file;
    if (first.cause !== undefined) this.cause = first.cause;
    if (first.sourceLine !== undefined) this.sourceLine = first.sourceLine;
  }

  /** Every error with its caret, then one summary line (`3 errors in Corefile`). */
  report(): string {
    const n = this.errors.length;
    const summary = `${n}${this.truncated ? '+' : ''} error${n === 1 ? '' : 's'} in ${this.file}${this.truncated ? ' (stopped counting)' : ''}`;
    return `${this.errors.map((e) => e.pretty()).join('\n')}\n${summary}`;
  }
}

/** A warning: printed with its position, never fatal. */
export interface ConfigWarning {
  readonly code: ConfigWarningCode;
  readonly pos: Position | undefined;
  readonly plugin?: string;
  readonly message: string;
  sourceLine?: string;
}

/** `file:line:col: [plugin/NAME: ]message` with its caret line. */
export function formatWarning(w: ConfigWarning): string {
  const text = `${w.pos ? `${formatPosition(w.pos)}: ` : ''}${w.plugin ? `plugin/${w.plugin}: ` : ''}${w.message}`;
  return withCaret(text, w.pos, w.sourceLine);
}

export function formatPosition(pos: Position): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}

function withCaret(text: string, pos: Position | undefined, sourceLine: string | undefined): string {
  if (sourceLine === undefined || !pos) return text;
  const line = sourceLine.replace(/\t/g, ' ');
  return `${text}\n    ${line}\n    ${' '.repeat(Math.max(0, pos.col - 1))}^`;
}

/** `forward: wrong argument count` under plugin/forward says the name once. */
function withoutPluginPrefix(detail: string, plugin: string | undefined): string {
  if (!plugin) return detail;
  for (const prefix of [`plugin/${plugin}: `, `${plugin}: `]) {
    if (detail.startsWith(prefix)) return detail.slice(prefix.length);
  }
  return detail;
}

/**
 * A ConfigError, also one thrown by a plugin built against another copy of nodens (its class is not
 * ours, so instanceof fails): recognised by its fields, and rebuilt so the message is not nested.
 */
export function asConfigError(err: unknown): ConfigError | undefined {
  if (err instanceof ConfigError) return err;
  if (typeof err !== 'object' || err === null) return undefined;
  const e = err as Partial<Record<'name' | 'code' | 'detail' | 'plugin', unknown>> & { pos?: unknown };
  if (e.name !== 'ConfigError' && e.name !== 'ConfigErrors') return undefined;
  if (typeof e.code !== 'string' || !e.code.startsWith('ERR_') || typeof e.detail !== 'string') return undefined;
  const p = e.pos as Partial<Position> | undefined;
  const pos = p && typeof p.file === 'string' && typeof p.line === 'number' && typeof p.col === 'number' ? { file: p.file, line: p.line, col: p.col } : undefined;
  const rebuilt = new ConfigError(pos, typeof e.plugin === 'string' ? e.plugin : undefined, e.detail, e.code as ConfigErrorCode);
  rebuilt.cause = err;
  return rebuilt;
}

/** Throws a ConfigError at a token. */
export function errorAt(token: Token | Position, plugin: string | undefined, detail: string, code?: ConfigErrorCode): never {
  throw new ConfigError('text' in token ? token.pos : token, plugin, detail, code);
}

/**
 * CoreDNS users' common misspellings (from its issue tracker and mailing list) that edit distance
 * alone misses or ranks wrong.
 */
const MISSPELLINGS: Readonly<Record<string, string>> = {
  fallthru: 'fallthrough',
  fallthough: 'fallthrough',
  'fall-through': 'fallthrough',
  fall_through: 'fallthrough',
  fallback: 'fallthrough',
  proxy: 'forward',
  forwarder: 'forward',
  upstreams: 'upstream',
  'health-check': 'health_check',
  healthcheck: 'health_check',
  maxfails: 'max_fails',
  'max-fails': 'max_fails',
  forcetcp: 'force_tcp',
  'force-tcp': 'force_tcp',
  preferudp: 'prefer_udp',
  'prefer-udp': 'prefer_udp',
  noreverse: 'no_reverse',
  'no-reverse': 'no_reverse',
  'serve-stale': 'serve_stale',
  servestale: 'serve_stale',
  'pods-insecure': 'pods',
  endpointpodnames: 'endpoint_pod_names',
  'endpoint-pod-names': 'endpoint_pod_names',
  prometheous: 'prometheus',
  promethus: 'prometheus',
  metrics: 'prometheus',
  healthz: 'health',
  readiness: 'ready',
  logs: 'log',
  logging: 'log',
  error: 'errors',
  cahce: 'cache',
  caching: 'cache',
  k8s: 'kubernetes',
  kube: 'kubernetes',
  loadbalancer: 'loadbalance',
  load_balance: 'loadbalance',
  roundrobin: 'round_robin',
  'round-robin': 'round_robin',
};

/**
 * The candidate `word` was probably meant to be: from the misspellings table, else the closest by
 * edit distance, allowed to be further off for longer words (1 for up to 4 letters, then about a third).
 */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  const lower = word.toLowerCase();
  const known = MISSPELLINGS[lower];
  if (known !== undefined && candidates.includes(known)) return known;
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(lower, c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  const limit = lower.length <= 4 ? 1 : Math.max(2, Math.round(lower.length / 3));
  // A prefix (`fallth`, `health_ch`) is a word cut short, whatever the distance.
  if (bestDistance > limit && lower.length >= 4) {
    const prefixed = candidates.find((c) => c.toLowerCase().startsWith(lower));
    if (prefixed) return prefixed;
  }
  return bestDistance <= limit && bestDistance < Math.max(lower.length, 1) ? best : undefined;
}

/** Optimal string alignment distance: insertions, deletions, substitutions, and two letters swapped (`paht`). */
function editDistance(a: string, b: string): number {
  let older: number[] = [];
  let prev = Array.from({ length: b.length + 1 }, (_, j) => j);
  for (let i = 1; i <= a.length; i++) {
    const cur = [i];
    for (let j = 1; j <= b.length; j++) {
      let d = Math.min(prev[j]! + 1, cur[j - 1]! + 1, prev[j - 1]! + (a[i - 1] === b[j - 1] ? 0 : 1));
      if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d = Math.min(d, older[j - 2]! + 1);
      cur.push(d);
    }
    older = prev;
    prev = cur;
  }
  return prev[b.length]!;
}
