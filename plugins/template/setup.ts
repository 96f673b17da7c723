// template: Corefile parsing, the options schema, and setup (regexes and templates compiled once).
import {
  ConfigError, errorAt, expectArgs, fallthroughArg, normalizeZone, unknownProperty, zonesArg,
  type Directive, type Handler, type JsonSchema, type ParseContext, type SetupEnv, type Token,
} from 'nodens';
import { NameRegex } from '../pkg/name-regex.js';
import { compileTemplate, TemplateSyntaxError, type CompiledTemplate } from './go-template.js';
import { TemplateHandler, type Template } from './template.js';

const NAME = 'template';

export interface TemplateOptions {
  /** The query class it answers (IN, CH, ANY...). */
  class: string;
  /** The query type it answers (A, PTR, ANY...). */
  type: string;
  /** Default: the server block's zones. */
  zones?: string[];
  /** Go (RE2) regexes matched against the fully qualified query name; default `.*`. */
  match?: string[];
  answer?: string[];
  additional?: string[];
  authority?: string[];
  /** NOERROR by default. */
  rcode?: string;
  /** An RFC 8914 Extended DNS Error to add to the reply. */
  ederror?: { code: number; reason?: string };
  /** Absent: never fall through; [] all zones. */
  fallthrough?: string[];
}

/** miekg/dns's RcodeToString names (the ones a template may answer with). */
export const RCODES: Record<string, number> = {
  NOERROR: 0, FORMERR: 1, SERVFAIL: 2, NXDOMAIN: 3, NOTIMP: 4, REFUSED: 5, YXDOMAIN: 6, YXRRSET: 7, NXRRSET: 8, NOTAUTH: 9, NOTZONE: 10,
};
const CLASSES = ['IN', 'CH', 'CS', 'HS', 'NONE', 'ANY'];
const TYPE_RE = /^(?:[A-Z][A-Z0-9]*|TYPE\d+)$/;
const PROPERTIES = ['match', 'answer', 'additional', 'authority', 'rcode', 'ederror', 'fallthrough', 'upstream'];

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['class', 'type'],
  properties: {
    class: { enum: CLASSES },
    type: { type: 'string', pattern: TYPE_RE.source },
    zones: { type: 'array', items: { type: 'string' } },
    match: { type: 'array', items: { type: 'string', maxLength: 10000 } },
    answer: { type: 'array', items: { type: 'string' } },
    additional: { type: 'array', items: { type: 'string' } },
    authority: { type: 'array', items: { type: 'string' } },
    rcode: { enum: Object.keys(RCODES) },
    ederror: {
      type: 'object', additionalProperties: false, required: ['code'],
      properties: { code: { type: 'integer', minimum: 0, maximum: 65535 }, reason: { type: 'string' } },
    },
    fallthrough: { type: 'array', items: { type: 'string' } },
  },
};

/** Where offset `k` of a token's text stands in the file (quoted tokens start one column later). */
function positionIn(tok: Token, k: number): Token['pos'] {
  const before = tok.text.slice(0, k);
  if (before.includes('\n')) return tok.pos;
  return { ...tok.pos, col: tok.pos.col + (tok.quoted ? 1 : 0) + k };
}

function compileAt(tok: Token): CompiledTemplate {
  try {
    return compileTemplate(tok.text);
  } catch (err) {
    if (!(err instanceof TemplateSyntaxError)) throw err;
    throw new ConfigError(positionIn(tok, err.offset), NAME, `could not compile template: ${err.message}`, 'ERR_BAD_VALUE');
  }
}

export function parse(d: Directive, ctx: ParseContext): TemplateOptions {
  const [cls, type] = expectArgs(d, NAME, 2, Infinity);
  if (!CLASSES.includes(cls!.text.toUpperCase())) errorAt(cls!, NAME, `invalid query class ${cls!.text}`, 'ERR_BAD_VALUE');
  if (!TYPE_RE.test(type!.text.toUpperCase())) errorAt(type!, NAME, `invalid RR type ${type!.text}`, 'ERR_BAD_VALUE');
  const opts: TemplateOptions = { class: cls!.text.toUpperCase(), type: type!.text.toUpperCase() };
  if (d.args.length > 2) opts.zones = zonesArg(d.args.slice(2), ctx, NAME);
  for (const p of d.block ?? []) {
    const prop = p.name.text;
    switch (prop) {
      case 'match':
        for (const tok of expectArgs(p, NAME, 1, Infinity)) {
          try {
            NameRegex.compile(tok.text);
          } catch (err) {
            errorAt(tok, NAME, (err as Error).message, 'ERR_BAD_VALUE');
          }
          (opts.match ??= []).push(tok.text);
        }
        break;
      case 'answer': case 'additional': case 'authority':
        for (const tok of expectArgs(p, NAME, 1, Infinity)) {
          compileAt(tok);
          (opts[prop] ??= []).push(tok.text);
        }
        break;
      case 'rcode': {
        const tok = expectArgs(p, NAME, 1)[0]!;
        if (RCODES[tok.text] === undefined) errorAt(tok, NAME, `unknown rcode ${tok.text}`, 'ERR_BAD_VALUE');
        opts.rcode = tok.text;
        break;
      }
      case 'ederror': {
        const [code, reason] = expectArgs(p, NAME, 1, 2);
        if (!/^\d+$/.test(code!.text) || Number(code!.text) > 65535) errorAt(code!, NAME, `'${code!.text}' is not an extended DNS error code (0..65535)`, 'ERR_BAD_VALUE');
        opts.ederror = { code: Number(code!.text), ...(reason ? { reason: reason.text } : {}) };
        break;
      }
      case 'fallthrough':
        opts.fallthrough = fallthroughArg(p.args, ctx, NAME);
        break;
      case 'upstream':
        // Accepted and ignored, as CoreDNS does: CNAME targets are always resolved through the server.
        break;
      default:
        unknownProperty(p, NAME, PROPERTIES);
    }
  }
  return opts;
}

/** Options → the compiled template (YAML options arrive here unchecked by parse(), so everything is compiled again). */
export function compileOptions(options: TemplateOptions, blockZones: readonly string[]): Template {
  const compile = (texts: readonly string[] | undefined): { text: string; render: CompiledTemplate }[] =>
    (texts ?? []).map((text) => {
      try {
        return { text, render: compileTemplate(text) };
      } catch (err) {
        throw new Error(`plugin/${NAME}: could not compile template "${text}": ${(err as Error).message}`);
      }
    });
  return {
    zones: (options.zones ?? blockZones).map(normalizeZone),
    qclass: options.class.toUpperCase(),
    qtype: options.type.toUpperCase(),
    regexes: (options.match ?? ['.*']).map((m) => NameRegex.compile(m)),
    answer: compile(options.answer),
    additional: compile(options.additional),
    authority: compile(options.authority),
    rcode: RCODES[options.rcode ?? 'NOERROR'] ?? 0,
    ...(options.ederror ? { ederror: options.ederror } : {}),
    fall: options.fallthrough?.map(normalizeZone),
  };
}

export function setup(options: TemplateOptions, env: SetupEnv): Handler {
  const handler = new TemplateHandler(compileOptions(options, env.zones), {
    resolve: (q) => env.resolve(q),
    metrics: env.metrics,
  });
  return { serve: (req, next) => handler.serve(req, next) };
}
