// rewrite: Corefile parsing, the options schema, and setup. One directive is one rule; its words may stand on
// the directive's line or, as CoreDNS allows, in its block (`rewrite stop { name regex A B; answer name C D }`).
import { ConfigError, type Directive, type Handler, type JsonSchema, type Token } from 'nodens';
import { RewriteHandler } from './rewrite.js';
import { compileRule, FIELDS } from './rules.js';
import { RuleError } from './rule.js';

const NAME = 'rewrite';

export interface RewriteOptions {
  /** stop (the default): a rule that applied ends the block's rewrites; continue: later rules apply too. */
  mode?: 'stop' | 'continue';
  /** What is rewritten. */
  field: (typeof FIELDS)[number];
  /** The rule's arguments as CoreDNS writes them after FIELD: `[suffix, old.test, new.test, answer, auto]`. */
  args: string[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  required: ['field', 'args'],
  properties: {
    mode: { enum: ['stop', 'continue'] },
    field: { enum: [...FIELDS] },
    args: { type: 'array', items: { type: 'string' } },
  },
};

function wordsOf(o: RewriteOptions): string[] {
  return [...(o.mode ? [o.mode] : []), o.field, ...o.args];
}

export function parse(d: Directive): RewriteOptions {
  const tokens: Token[] = [...d.args];
  for (const line of d.block ?? []) tokens.push(line.name, ...line.args);
  const words = tokens.map((t) => t.text);
  try {
    compileRule(words);
  } catch (err) {
    if (!(err instanceof RuleError)) throw err;
    const tok = err.arg >= 0 && err.arg < tokens.length ? tokens[err.arg]! : (tokens.at(-1) ?? d.name);
    throw new ConfigError(tok.pos, NAME, err.message, 'ERR_BAD_VALUE');
  }
  const modeWord = words[0]?.toLowerCase();
  const hasMode = modeWord === 'stop' || modeWord === 'continue';
  return {
    ...(hasMode ? { mode: modeWord } : {}),
    field: words[hasMode ? 1 : 0]!.toLowerCase() as RewriteOptions['field'],
    args: words.slice(hasMode ? 2 : 1),
  };
}

export function setup(options: RewriteOptions): Handler {
  let rule;
  try {
    rule = compileRule(wordsOf(options));
  } catch (err) {
    throw new Error(`plugin/${NAME}: ${(err as Error).message}`);
  }
  const handler = new RewriteHandler(rule);
  return { serve: (req, next) => handler.serve(req, next) };
}
