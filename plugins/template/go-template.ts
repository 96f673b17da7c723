// The part of Go's text/template that CoreDNS's template examples use, compiled once at setup into closures:
// `{{ .Name }}`, `{{ .Group.a }}`, `{{ index .Match 1 }}`, `{{ .Meta "label" }}`, `{{ parseInt .Group.b 16 8 }}`,
// string and number literals, pipes (`x | f`), parentheses, `{{- -}}` trimming and `{{/* comments */}}`.
// Control actions (if, range, with, define) and variables are refused at setup with the place they stand.

/** The values a template sees for one query (CoreDNS's templateData). */
export interface TemplateData {
  /** The matched zone, fully qualified: `example.`. */
  readonly Zone: string;
  /** The query name, lower-cased and fully qualified. */
  readonly Name: string;
  readonly Regex: string;
  readonly Class: string;
  readonly Type: string;
  /** `index .Match 0` is the whole match. */
  readonly Match: readonly string[];
  /** Named groups, and every group by its number as a string. */
  readonly Group: Readonly<Record<string, string>>;
  readonly Question: { readonly Name: string; readonly Qtype: number; readonly Qclass: number };
  /** The client's address. */
  readonly Remote: string;
  /** A metadata value by label; '' when there is none. */
  readonly Meta: (label: string) => string;
}

const FIELDS = new Set<string>(['Zone', 'Name', 'Regex', 'Class', 'Type', 'Match', 'Group', 'Question', 'Remote', 'Meta']);
const FIELD_TYPES: Record<string, readonly string[] | undefined> = { Question: ['Name', 'Qtype', 'Qclass'] };

/** Thrown by compile(): `offset` is where in the template text the problem is. */
export class TemplateSyntaxError extends Error {
  constructor(message: string, readonly offset: number) {
    super(message);
    this.name = 'TemplateSyntaxError';
  }
}

/** Thrown while rendering (an index out of range, a bad parseInt): CoreDNS's "error calling index". */
export class TemplateExecError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'TemplateExecError';
  }
}

type Value = unknown;
type Eval = (data: TemplateData) => Value;
type Func = (args: readonly Value[]) => Value;

export type CompiledTemplate = (data: TemplateData) => string;

const FUNCS: Record<string, Func> = {
  index: (args) => {
    if (args.length < 1) throw new TemplateExecError('index: wrong number of args');
    let v = args[0];
    for (const k of args.slice(1)) {
      if (Array.isArray(v)) {
        const i = Number(k);
        if (!Number.isInteger(i) || i < 0 || i >= v.length) throw new TemplateExecError(`error calling index: index out of range: ${String(k)}`);
        v = v[i];
      } else if (v !== null && typeof v === 'object') {
        v = Object.prototype.hasOwnProperty.call(v, String(k)) ? (v as Record<string, Value>)[String(k)] : '';
      } else {
        throw new TemplateExecError(`error calling index: can't index item of type ${typeof v}`);
      }
    }
    return v;
  },
  len: (args) => {
    const v = args[0];
    if (typeof v === 'string' || Array.isArray(v)) return v.length;
    if (v !== null && typeof v === 'object') return Object.keys(v).length;
    throw new TemplateExecError(`error calling len: len of type ${typeof v}`);
  },
  print: (args) => args.map(show).join(''),
  printf: (args) => {
    let i = 1;
    return String(args[0] ?? '').replace(/%[sdv%]/g, (m) => (m === '%%' ? '%' : show(args[i++])));
  },
  // strconv.ParseUint(s, base, bits), as CoreDNS registers it.
  parseInt: (args) => {
    const [s, base, bits] = [String(args[0] ?? ''), Number(args[1]), Number(args[2])];
    const digits = base === 16 ? /^[0-9a-f]+$/i : base === 8 ? /^[0-7]+$/ : base === 2 ? /^[01]+$/ : /^[0-9]+$/;
    if (!digits.test(s)) throw new TemplateExecError(`error calling parseInt: strconv.ParseUint: parsing "${s}": invalid syntax`);
    const n = BigInt(parseIntBig(s, base));
    if (bits > 0 && bits < 64 && n >= 1n << BigInt(bits)) throw new TemplateExecError(`error calling parseInt: strconv.ParseUint: parsing "${s}": value out of range`);
    return n;
  },
};

function parseIntBig(s: string, base: number): bigint {
  let n = 0n;
  for (const c of s.toLowerCase()) n = n * BigInt(base) + BigInt(parseInt(c, base));
  return n;
}

function show(v: Value): string {
  if (v === undefined || v === null) return '<no value>';
  if (Array.isArray(v)) return `[${v.map(show).join(' ')}]`;
  if (typeof v === 'object') return `map[${Object.entries(v).sort().map(([k, x]) => `${k}:${show(x)}`).join(' ')}]`;
  return String(v);
}

/** Compiles template text; throws TemplateSyntaxError with the offset of the bad action. */
export function compileTemplate(text: string): CompiledTemplate {
  const parts: (string | Eval)[] = [];
  let at = 0;
  let trimNext = false;
  while (at < text.length) {
    const open = text.indexOf('{{', at);
    let literal = open < 0 ? text.slice(at) : text.slice(at, open);
    if (trimNext) literal = literal.replace(/^\s+/, '');
    if (open < 0) {
      if (literal) parts.push(literal);
      break;
    }
    const trimLeft = text.startsWith('{{- ', open) || text.startsWith('{{-\t', open);
    if (trimLeft) literal = literal.replace(/\s+$/, '');
    if (literal) parts.push(literal);
    const close = findClose(text, open + 2);
    if (close < 0) throw new TemplateSyntaxError('unclosed action', open);
    const trimRight = /\s-$/.test(text.slice(open + 2, close));
    const inner = text.slice(open + 2 + (trimLeft ? 1 : 0), close - (trimRight ? 1 : 0));
    const innerOffset = open + 2 + (trimLeft ? 1 : 0);
    if (!/^\s*\/\*[\s\S]*\*\/\s*$/.test(inner)) parts.push(compileAction(inner, innerOffset));
    trimNext = trimRight;
    at = close + 2;
  }
  if (parts.every((p) => typeof p === 'string')) {
    const constant = parts.join('');
    return () => constant;
  }
  return (data) => {
    let out = '';
    for (const p of parts) out += typeof p === 'string' ? p : show(p(data));
    return out;
  };
}

/** The `}}` closing the action that starts at `from`, skipping quoted strings. */
function findClose(text: string, from: number): number {
  for (let i = from; i < text.length; i++) {
    const c = text[i];
    if (c === '"') {
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
    } else if (c === '`') {
      i = text.indexOf('`', i + 1);
      if (i < 0) return -1;
    } else if (c === '}' && text[i + 1] === '}') {
      return i;
    }
  }
  return -1;
}

interface Tok {
  readonly kind: 'field' | 'ident' | 'string' | 'number' | 'pipe' | 'lparen' | 'rparen' | 'dot' | 'var';
  readonly text: string;
  readonly value?: Value;
  readonly offset: number;
}

const TOKEN_RE = /\s+|(\.[A-Za-z_][\w]*(?:\.[A-Za-z_0-9][\w]*)*)|([A-Za-z_][\w]*)|("(?:[^"\\]|\\.)*"|`[^`]*`)|(-?\d+(?:\.\d+)?)|(\|)|(\()|(\))|(\.)|(\$[\w]*)/y;

function lex(src: string, base: number): Tok[] {
  const toks: Tok[] = [];
  TOKEN_RE.lastIndex = 0;
  let i = 0;
  while (i < src.length) {
    TOKEN_RE.lastIndex = i;
    const m = TOKEN_RE.exec(src);
    if (!m) throw new TemplateSyntaxError(`unexpected "${src[i]}" in action`, base + i);
    const offset = base + i;
    i = TOKEN_RE.lastIndex;
    if (m[1]) toks.push({ kind: 'field', text: m[1], offset });
    else if (m[2]) toks.push({ kind: 'ident', text: m[2], offset });
    else if (m[3]) toks.push({ kind: 'string', text: m[3], value: m[3].startsWith('`') ? m[3].slice(1, -1) : JSON.parse(m[3]) as string, offset });
    else if (m[4]) toks.push({ kind: 'number', text: m[4], value: Number(m[4]), offset });
    else if (m[5]) toks.push({ kind: 'pipe', text: '|', offset });
    else if (m[6]) toks.push({ kind: 'lparen', text: '(', offset });
    else if (m[7]) toks.push({ kind: 'rparen', text: ')', offset });
    else if (m[8]) toks.push({ kind: 'dot', text: '.', offset });
    else if (m[9]) toks.push({ kind: 'var', text: m[9], offset });
  }
  return toks;
}

const CONTROL = new Set(['if', 'else', 'end', 'range', 'with', 'define', 'template', 'block', 'break', 'continue']);

function compileAction(src: string, base: number): Eval {
  const toks = lex(src, base);
  if (toks.length === 0) throw new TemplateSyntaxError('missing value for command', base);
  const first = toks[0]!;
  if (first.kind === 'ident' && CONTROL.has(first.text)) throw new TemplateSyntaxError(`"${first.text}" actions are not supported by nodens's template`, first.offset);
  const p = { toks, i: 0 };
  const pipeline = parsePipeline(p);
  if (p.i < toks.length) throw new TemplateSyntaxError(`unexpected "${toks[p.i]!.text}" in action`, toks[p.i]!.offset);
  return pipeline;
}

interface Cursor { toks: Tok[]; i: number }

function parsePipeline(p: Cursor): Eval {
  let prev: Eval | undefined;
  for (;;) {
    const cmd = parseCommand(p, prev);
    prev = cmd;
    if (p.toks[p.i]?.kind !== 'pipe') return cmd;
    p.i++;
  }
}

/** A command: a function with arguments, a method (.Meta "x") with arguments, or a single operand. `piped` is the last argument. */
function parseCommand(p: Cursor, piped: Eval | undefined): Eval {
  const head = p.toks[p.i];
  if (!head || head.kind === 'pipe' || head.kind === 'rparen') throw new TemplateSyntaxError('missing value for command', head?.offset ?? 0);
  const args: Eval[] = [];
  if (head.kind === 'ident') {
    const fn = FUNCS[head.text];
    if (!fn) {
      if (head.text === 'true' || head.text === 'false' || head.text === 'nil') throw new TemplateSyntaxError(`"${head.text}" is not supported here`, head.offset);
      throw new TemplateSyntaxError(`function "${head.text}" not defined`, head.offset);
    }
    p.i++;
    while (isOperandStart(p.toks[p.i])) args.push(parseOperand(p));
    if (piped) args.push(piped);
    return (d) => fn(args.map((a) => a(d)));
  }
  if (head.kind === 'field' && head.text === '.Meta') {
    p.i++;
    while (isOperandStart(p.toks[p.i])) args.push(parseOperand(p));
    if (piped) args.push(piped);
    if (args.length !== 1) throw new TemplateSyntaxError(`wrong number of args for Meta: want 1 got ${args.length}`, head.offset);
    const label = args[0]!;
    return (d) => d.Meta(String(label(d)));
  }
  const operand = parseOperand(p);
  if (isOperandStart(p.toks[p.i]) || piped) throw new TemplateSyntaxError(`can't give argument to non-function ${head.text}`, head.offset);
  return operand;
}

function isOperandStart(t: Tok | undefined): boolean {
  return t !== undefined && t.kind !== 'pipe' && t.kind !== 'rparen';
}

function parseOperand(p: Cursor): Eval {
  const t = p.toks[p.i++]!;
  switch (t.kind) {
    case 'string': case 'number': {
      const v = t.value;
      return () => v;
    }
    case 'dot':
      return (d) => d;
    case 'field':
      return fieldChain(t);
    case 'lparen': {
      const inner = parsePipeline(p);
      if (p.toks[p.i]?.kind !== 'rparen') throw new TemplateSyntaxError('unclosed left paren', t.offset);
      p.i++;
      return inner;
    }
    case 'var':
      throw new TemplateSyntaxError(`undefined variable "${t.text}"`, t.offset);
    case 'ident':
      throw new TemplateSyntaxError(`function "${t.text}" must come first in a command (use parentheses)`, t.offset);
    default:
      throw new TemplateSyntaxError(`unexpected "${t.text}" in operand`, t.offset);
  }
}

/** `.Group.a`: the first field is checked at setup against CoreDNS's templateData. */
function fieldChain(t: Tok): Eval {
  const path = t.text.slice(1).split('.');
  const top = path[0]!;
  if (!FIELDS.has(top)) throw new TemplateSyntaxError(`can't evaluate field ${top} (nodens's template has ${[...FIELDS].join(', ')})`, t.offset);
  if (top === 'Meta') throw new TemplateSyntaxError('Meta takes a label: .Meta "plugin/label"', t.offset);
  const sub = FIELD_TYPES[top];
  if (sub && path.length > 1 && !sub.includes(path[1]!)) throw new TemplateSyntaxError(`can't evaluate field ${path[1]} in ${top}`, t.offset);
  if (path.length === 1) return (d) => (d as unknown as Record<string, Value>)[top];
  if (top === 'Group') {
    // A map: a group that is not there prints "<no value>", as Go prints a missing map key.
    const key = path.slice(1).join('.');
    return (d) => d.Group[key] ?? '<no value>';
  }
  if (top !== 'Question') throw new TemplateSyntaxError(`can't evaluate field ${path[1]} in type ${top === 'Match' ? '[]string' : 'string'}`, t.offset);
  const field = path[1] as 'Name' | 'Qtype' | 'Qclass';
  return (d) => d.Question[field];
}
