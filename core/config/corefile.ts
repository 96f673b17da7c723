// Corefile parser: lexemes → raw server blocks (keys + directives with nested blocks), expanding
// `(snippet) {...}` definitions and `import NAME|FILE|GLOB` in place, as Caddy's parser does.
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ConfigError, errorAt } from './errors.js';
import { expandGlob, hasGlob } from './glob.js';
import { type Env, type Lexeme, lex, UnterminatedQuote } from './lexer.js';
import type { Directive, Position, Token } from './types.js';

/** A server block before its keys and directives are interpreted. */
export interface RawBlock {
  readonly keys: readonly Token[];
  readonly directives: readonly Directive[];
  readonly pos: Position;
}

export interface ParseOptions {
  readonly env?: Env;
  /** Folder that imports in the top-level text are relative to (default: the file's folder). */
  readonly baseDir?: string;
  /** Told about a glob import that matched no file (CoreDNS logs a warning and goes on). */
  readonly onWarning?: (message: string) => void;
  /**
   * Whether a word is a directive. A brace-less "server block" whose key is one (`prometheus :9153`
   * written at the top level) then ends at its line, so the blocks after it are still read as blocks.
   */
  readonly isDirective?: (word: string) => boolean;
}

export interface ParsedCorefile {
  readonly blocks: readonly RawBlock[];
  /** Absolute paths of every imported file, in the order read. */
  readonly imports: readonly string[];
  /** The text of every file read (and of the top-level text), by the name tokens carry: for caret lines. */
  readonly sources: ReadonlyMap<string, string>;
  /** `{$VAR}`s that were unset, by the position (`file:line:col`) of the token they stood in. */
  readonly unset: ReadonlyMap<string, readonly string[]>;
}

/** CoreDNS's (Caddy's) limit, which also stops a snippet that keeps importing itself. */
export const MAX_IMPORTS = 10_000;

/** A lexeme and the chain of imports (files, snippets) it came through, for cycle detection. */
interface Item extends Lexeme {
  readonly chain: readonly string[];
}

export function parseCorefile(text: string, file: string, opts: ParseOptions = {}): ParsedCorefile {
  return new Parser(text, file, opts).parse();
}

class Parser {
  readonly #items: Item[];
  #at = 0;
  #imports = 0;
  readonly #snippets = new Map<string, Item[]>();
  readonly #files: string[] = [];
  readonly #sources = new Map<string, string>();
  readonly #unset = new Map<string, string[]>();
  /** Every `{` matched so far with its `}`, for finding the brace that is really unclosed. */
  readonly #pairs: { open: Item; close: Item }[] = [];
  readonly #mainFile: string;
  readonly #baseDir: string;

  constructor(text: string, file: string, private readonly opts: ParseOptions) {
    this.#mainFile = file;
    this.#baseDir = opts.baseDir ?? dirname(resolve(file));
    this.#sources.set(file, text);
    this.#items = this.#lex(text, file, [resolve(this.#baseDir, file)]);
  }

  parse(): ParsedCorefile {
    const blocks: RawBlock[] = [];
    while (this.#peek()) {
      const t = this.#peek()!;
      if (t.brace === '}') errorAt(t.token, undefined, "unexpected '}': no block is open here", 'ERR_UNEXPECTED_BRACE');
      if (t.brace === '{') errorAt(t.token, undefined, "unexpected '{': a block needs a server address (like . or example.org:53) before it", 'ERR_SYNTAX');
      if (this.#isImport(t)) {
        this.#doImport();
        continue;
      }
      const keys = this.#keys();
      const snippet = keys.length === 1 ? /^\((.+)\)$/.exec(keys[0]!.text) : null;
      if (snippet) {
        this.#defineSnippet(snippet[1]!, keys[0]!);
        continue;
      }
      const open = this.#peek()?.brace === '{' ? this.#next() : undefined;
      if (!open && this.opts.isDirective && keys.some((k) => this.opts.isDirective!(k.text))) {
        blocks.push({ keys, directives: [], pos: keys[0]!.pos });
        continue;
      }
      blocks.push({ keys, directives: this.#directives(open), pos: keys[0]!.pos });
    }
    return { blocks, imports: this.#files, sources: this.#sources, unset: this.#unset };
  }

  #peek(): Item | undefined {
    return this.#items[this.#at];
  }

  #next(): Item {
    return this.#items[this.#at++]!;
  }

  #isImport(t: Item): boolean {
    return t.token.text === 'import' && !t.token.quoted && !t.brace;
  }

  /** Server keys: the words of one line, continued onto the next by a trailing comma. */
  #keys(): Token[] {
    const keys: Token[] = [];
    let more = false;
    let last: Token | undefined;
    for (;;) {
      const t = this.#next();
      last = t.token;
      more = t.token.text.endsWith(',') && !t.token.quoted;
      const text = more ? t.token.text.replace(/,+$/, '') : t.token.text;
      if (text !== '') keys.push(text === t.token.text ? t.token : { ...t.token, text });
      const n = this.#peek();
      // `{` on the keys' line or the next one opens the block (both layouts are common).
      if (!n || n.brace) break;
      if (n.newline && !more) break;
    }
    if (more && !this.#peek()) errorAt(last, undefined, "expected another server address after ','", 'ERR_SYNTAX');
    if (keys.length === 0) errorAt(last, undefined, 'expected a server address', 'ERR_SYNTAX');
    return keys;
  }

  /** Directives up to the `}` matching `open`, or to the end of input when there is no brace. */
  #directives(open: Item | undefined): Directive[] {
    const list: Directive[] = [];
    for (;;) {
      const t = this.#peek();
      if (!t) {
        if (open) this.#unclosed(open);
        return list;
      }
      if (t.brace === '}') {
        if (!open) errorAt(t.token, undefined, "unexpected '}': no block is open here", 'ERR_UNEXPECTED_BRACE');
        this.#at++;
        this.#pairs.push({ open, close: t });
        return list;
      }
      if (t.brace === '{') errorAt(t.token, undefined, "unexpected '{': a block opens at the end of its directive's line", 'ERR_SYNTAX');
      if (this.#isImport(t)) {
        this.#doImport();
        continue;
      }
      list.push(this.#directive());
    }
  }

  /** One directive: its name, the rest of its line, and a block if the line ends with `{`. */
  #directive(): Directive {
    const name = this.#next().token;
    const args: Token[] = [];
    for (let n = this.#peek(); n && !n.newline && !n.brace; n = this.#peek()) args.push(this.#next().token);
    const n = this.#peek();
    if (n && n.brace === '{' && !n.newline) {
      const open = this.#next();
      return { name, args, block: this.#directives(open) };
    }
    return { name, args };
  }

  /**
   * `open` never closes. Braces pair innermost first, so the `{` actually missing its `}` is often an
   * inner one that took the outer block's `}`: the pair whose `}` is indented left of its `{` line.
   */
  #unclosed(open: Item): never {
    const misfit = this.#pairs.find(({ open: o, close: c }) =>
      o.token.pos.file === c.token.pos.file && c.token.pos.col < this.#indentOf(o) && c.token.pos.line > o.token.pos.line);
    if (misfit) {
      const at = `${misfit.close.token.pos.line}:${misfit.close.token.pos.col}`;
      errorAt(misfit.open.token, undefined, `unclosed '{': the '}' at ${at} is indented like an outer block's; this block's own '}' seems to be missing`, 'ERR_UNCLOSED_BRACE');
    }
    errorAt(open.token, undefined, "unclosed '{': no matching '}' before the end of the file", 'ERR_UNCLOSED_BRACE');
  }

  /** The column of the first word on the line of `item`. */
  #indentOf(item: Item): number {
    const line = this.#sources.get(item.token.pos.file)?.split('\n')[item.token.pos.line - 1] ?? '';
    return line.length - line.trimStart().length + 1;
  }

  #defineSnippet(name: string, key: Token): void {
    if (this.#snippets.has(name)) errorAt(key, undefined, `snippet '${name}' is already defined`, 'ERR_DUPLICATE');
    const open = this.#peek();
    if (!open || open.brace !== '{') errorAt(key, undefined, `snippet (${name}) needs a { block }`, 'ERR_SYNTAX');
    this.#at++;
    const body: Item[] = [];
    let depth = 1;
    for (;;) {
      const t = this.#peek();
      if (!t) errorAt(open.token, undefined, "unclosed '{': no matching '}' before the end of the file", 'ERR_UNCLOSED_BRACE');
      this.#at++;
      if (t.brace === '{') depth++;
      if (t.brace === '}' && --depth === 0) break;
      body.push(t);
    }
    this.#snippets.set(name, body);
  }

  /** Replaces `import ARG` with the tokens of the snippet or file(s) it names. */
  #doImport(): void {
    const start = this.#at;
    const imp = this.#next();
    const args: Item[] = [];
    for (let n = this.#peek(); n && !n.newline && !n.brace; n = this.#peek()) args.push(this.#next());
    if (args.length !== 1) {
      errorAt(imp.token, undefined, `import: wrong argument count: want 1 (a snippet name, file or glob), got ${args.length}`, 'ERR_ARG_COUNT');
    }
    if (++this.#imports > MAX_IMPORTS) errorAt(imp.token, undefined, `import: more than ${MAX_IMPORTS} imports`, 'ERR_IMPORT');
    const arg = args[0]!.token;
    if (arg.text === '') errorAt(imp.token, undefined, 'import: empty argument', 'ERR_IMPORT');
    const items = this.#snippets.has(arg.text) ? this.#snippetItems(arg.text, imp) : this.#fileItems(arg, imp);
    if (items.length > 0) items[0] = { ...items[0]!, newline: true };
    this.#items.splice(start, this.#at - start, ...items);
    this.#at = start;
  }

  #snippetItems(name: string, imp: Item): Item[] {
    const chain = this.#enter(`(${name})`, imp);
    return this.#snippets.get(name)!.map((it) => ({ ...it, chain }));
  }

  #fileItems(arg: Token, imp: Item): Item[] {
    const base = arg.pos.file === this.#mainFile ? this.#baseDir : dirname(resolve(this.#baseDir, arg.pos.file));
    const pattern = resolve(base, arg.text);
    let files: string[];
    if (hasGlob(arg.text)) {
      files = expandGlob(pattern);
      if (files.length === 0) this.opts.onWarning?.(`${fmt(arg.pos)}: no files matching import glob pattern: ${arg.text}`);
    } else {
      files = [pattern];
    }
    const items: Item[] = [];
    for (const f of files) {
      const chain = this.#enter(f, imp);
      let text: string;
      try {
        text = readFileSync(f, 'utf8');
      } catch (err) {
        const why = (err as NodeJS.ErrnoException).code === 'ENOENT' ? `no snippet named '${arg.text}' and no such file: ${f}` : `cannot read ${f}: ${(err as Error).message}`;
        errorAt(imp.token, undefined, `import: ${why}`, 'ERR_IMPORT');
      }
      if (!this.#files.includes(f)) this.#files.push(f);
      this.#sources.set(f, text);
      items.push(...this.#lex(text, f, chain));
    }
    return items;
  }

  /** The import chain after entering `target`, refusing a cycle. */
  #enter(target: string, imp: Item): readonly string[] {
    if (imp.chain.includes(target)) {
      const path = [...imp.chain.slice(imp.chain.indexOf(target)), target].join(' -> ');
      errorAt(imp.token, undefined, `import cycle: ${path}`, 'ERR_IMPORT');
    }
    return [...imp.chain, target];
  }

  #lex(text: string, file: string, chain: readonly string[]): Item[] {
    try {
      const onUnset = (name: string, pos: Position): void => {
        const key = fmt(pos);
        const names = this.#unset.get(key) ?? [];
        if (!names.includes(name)) names.push(name);
        this.#unset.set(key, names);
      };
      return lex(text, file, this.opts.env, onUnset).map((lx) => ({ ...lx, chain }));
    } catch (err) {
      if (err instanceof UnterminatedQuote) throw new ConfigError(err.pos, undefined, 'unterminated quoted string', 'ERR_SYNTAX');
      throw err;
    }
  }
}

function fmt(pos: Position): string {
  return `${pos.file}:${pos.line}:${pos.col}`;
}
