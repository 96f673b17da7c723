// Corefile tokenizer, as Caddy's (and so CoreDNS's) lexer does it: whitespace-separated words,
// `#` comments, `"..."` quoting, plus positions (file:line:col) on every token and {$ENV} substitution.
import type { Token } from './types.js';

/** A token plus what the parser needs about its layout. */
export interface Lexeme {
  readonly token: Token;
  /** First token on its line (a directive starts here). */
  readonly newline: boolean;
  /** An unquoted `{` or `}` as written (before env substitution, so `{$X}` can never become a brace). */
  readonly brace?: '{' | '}';
}

export type Env = Readonly<Record<string, string | undefined>>;

/**
 * Splits Corefile text into lexemes. `env` fills `{$VAR}` and `{%VAR%}` (unset: empty, as CoreDNS does);
 * `onUnset` hears of each unset one, so an error at that token can name the variable.
 */
export function lex(text: string, file: string, env: Env = {}, onUnset?: (name: string, pos: Token['pos']) => void): Lexeme[] {
  const out: Lexeme[] = [];
  let line = 1;
  let col = 1;
  // Line on which the previous token ended, so a token spanning lines does not start a new one twice.
  let lastTokenLine = 0;
  let i = 0;
  const n = text.length;

  const push = (raw: string, startLine: number, startCol: number, quoted: boolean): void => {
    const brace = !quoted && (raw === '{' || raw === '}') ? raw : undefined;
    const value = substituteEnv(raw, env, onUnset && ((name) => onUnset(name, { file, line: startLine, col: startCol })));
    const token: Token = quoted ? { text: value, pos: { file, line: startLine, col: startCol }, quoted } : { text: value, pos: { file, line: startLine, col: startCol } };
    out.push(brace ? { token, newline: startLine > lastTokenLine, brace } : { token, newline: startLine > lastTokenLine });
    lastTokenLine = line;
  };

  while (i < n) {
    const ch = text[i]!;
    if (ch === '\n') {
      line++;
      col = 1;
      i++;
      continue;
    }
    if (ch === ' ' || ch === '\t' || ch === '\r' || ch === '\f' || ch === '\v') {
      i++;
      col++;
      continue;
    }
    if (ch === '#') {
      while (i < n && text[i] !== '\n') i++;
      continue;
    }
    const startLine = line;
    const startCol = col;
    if (ch === '"') {
      const q = readQuoted(text, i, line, col);
      if (!q) throw new UnterminatedQuote({ file, line: startLine, col: startCol });
      ({ i, line, col } = q);
      push(q.value, startLine, startCol, true);
      continue;
    }
    // A bare word: up to whitespace or a `#` (a comment starts even in the middle of a word).
    const start = i;
    while (i < n) {
      const c = text[i]!;
      if (c === ' ' || c === '\t' || c === '\n' || c === '\r' || c === '\f' || c === '\v' || c === '#') break;
      i++;
    }
    col += i - start;
    const word = text.slice(start, i);
    if (word === '{}') {
      // An empty block written `{}`: Caddy reads one word, which only ever confuses; two braces it is.
      push('{', startLine, startCol, false);
      push('}', startLine, startCol + 1, false);
    } else {
      push(word, startLine, startCol, false);
    }
  }
  return out;
}

/** The quoted string opening at `start` (only \" escapes), and where reading stopped; undefined if it never closes. */
function readQuoted(text: string, start: number, line: number, col: number): { value: string; i: number; line: number; col: number } | undefined {
  let value = '';
  let i = start + 1;
  col++;
  while (i < text.length) {
    const c = text[i]!;
    if (c === '\\' && text[i + 1] === '"') {
      value += '"';
      i += 2;
      col += 2;
      continue;
    }
    i++;
    if (c === '"') return { value, i, line, col: col + 1 };
    if (c === '\n') {
      line++;
      col = 1;
    } else {
      col++;
    }
    value += c;
  }
  return undefined;
}

/** Thrown by lex() for a quote that never closes; the parser turns it into a ConfigError. */
export class UnterminatedQuote extends Error {
  constructor(readonly pos: Token['pos']) {
    super('unterminated quoted string');
  }
}

const ENV_RE = /\{\$([A-Za-z_][A-Za-z0-9_]*)(?::([^}]*))?\}|\{%([A-Za-z_][A-Za-z0-9_]*)%\}/g;

/** `{$VAR}`, `{$VAR:default}` (Caddy 2's form) and `{%VAR%}` (the Windows form). */
export function substituteEnv(text: string, env: Env, onUnset?: (name: string) => void): string {
  if (!text.includes('{')) return text;
  return text.replace(ENV_RE, (_m, unix: string | undefined, dflt: string | undefined, win: string | undefined) => {
    const value = env[(unix ?? win)!];
    if (value !== undefined && value !== '') return value;
    if (dflt === undefined) onUnset?.(unix ? `{$${unix}}` : `{%${win!}%}`);
    return dflt ?? '';
  });
}
