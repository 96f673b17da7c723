// ConfigError: every config problem names file:line:col, the plugin, what is wrong, and a stable code.
import type { Position, Token } from './types.js';

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
  | 'ERR_SCHEMA';

export class ConfigError extends Error {
  readonly code: ConfigErrorCode;
  readonly pos: Position | undefined;
  readonly plugin: string | undefined;
  /** The message without position and plugin prefix. */
  readonly detail: string;
  /** The offending source line, for a caret under the column, when known. */
  sourceLine?: string;

  constructor(pos: Position | undefined, plugin: string | undefined, detail: string, code: ConfigErrorCode = 'ERR_BAD_VALUE') {
    const where = pos ? `${pos.file}:${pos.line}:${pos.col}: ` : '';
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
    if (!this.sourceLine || !this.pos) return this.message;
    const line = this.sourceLine.replace(/\t/g, ' ');
    return `${this.message}\n    ${line}\n    ${' '.repeat(Math.max(0, this.pos.col - 1))}^`;
  }
}

/** Throws a ConfigError at a token. */
export function errorAt(token: Token | Position, plugin: string | undefined, detail: string, code?: ConfigErrorCode): never {
  throw new ConfigError('text' in token ? token.pos : token, plugin, detail, code);
}

/** The closest candidate to `word` within an edit distance of 2 (or a third of its length). */
export function didYouMean(word: string, candidates: readonly string[]): string | undefined {
  let best: string | undefined;
  let bestDistance = Infinity;
  for (const c of candidates) {
    const d = editDistance(word.toLowerCase(), c.toLowerCase());
    if (d < bestDistance) {
      bestDistance = d;
      best = c;
    }
  }
  return bestDistance <= Math.max(2, Math.floor(word.length / 3)) ? best : undefined;
}

function editDistance(a: string, b: string): number {
  const prev = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let diag = prev[0]!;
    prev[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = prev[j]!;
      prev[j] = Math.min(prev[j]! + 1, prev[j - 1]! + 1, diag + (a[i - 1] === b[j - 1] ? 0 : 1));
      diag = tmp;
    }
  }
  return prev[b.length]!;
}
