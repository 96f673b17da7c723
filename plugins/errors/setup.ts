// errors: Corefile parsing, the options schema, and setup.
import { DURATION_PATTERN, durationArg, expectArgs, oneOf, parseDuration, unknownProperty } from '../../core/config/args.js';
import { errorAt } from '../../core/config/errors.js';
import type { Directive, Token } from '../../core/config/types.js';
import type { CheckContext, Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { Consolidator, type ConsolidateLevel } from './consolidate.js';
import { serveErrors } from './errors.js';

const NAME = 'errors';
const LEVELS: readonly ConsolidateLevel[] = ['warning', 'error', 'info', 'debug'];

export interface ConsolidateOptions {
  /** The period, a duration ("30s", "5m"). */
  duration: string;
  /** A regular expression matched against the error message. */
  pattern: string;
  /** Level of the consolidated line; default error. */
  level?: ConsolidateLevel;
  /** Log the first matching error at once, then consolidate the rest of the period. */
  show_first?: boolean;
}

export interface ErrorsOptions {
  consolidate?: ConsolidateOptions[];
  /** Accepted for CoreDNS compatibility: a thrown error's stack is logged by the server anyway. */
  stacktrace?: boolean;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    consolidate: {
      type: 'array',
      items: {
        type: 'object',
        additionalProperties: false,
        required: ['duration', 'pattern'],
        properties: {
          duration: { type: 'string', pattern: DURATION_PATTERN },
          pattern: { type: 'string' },
          level: { enum: [...LEVELS] },
          show_first: { type: 'boolean' },
        },
      },
    },
    stacktrace: { type: 'boolean' },
  },
};

/** A Go regexp as a JS one: the common syntax is shared; what JS rejects is a config error here. */
function regexpArg(tok: Token): string {
  try {
    new RegExp(tok.text);
  } catch (err) {
    errorAt(tok, NAME, `invalid regular expression '${tok.text}': ${(err as Error).message}`, 'ERR_BAD_VALUE');
  }
  return tok.text;
}

function parseConsolidate(p: Directive): ConsolidateOptions {
  const args = expectArgs(p, NAME, 2, 4);
  const c: ConsolidateOptions = { duration: durationArg(args[0]!, NAME), pattern: regexpArg(args[1]!) };
  const rest = args.slice(2);
  if (rest.length > 0 && rest[rest.length - 1]!.text === 'show_first') {
    c.show_first = true;
    rest.pop();
  }
  if (rest.length > 1) errorAt(rest[1]!, NAME, `unexpected '${rest[1]!.text}' (want LEVEL then show_first)`, 'ERR_BAD_VALUE');
  if (rest.length === 1) c.level = oneOf(rest[0]!, NAME, LEVELS);
  return c;
}

export function parse(d: Directive): ErrorsOptions {
  // CoreDNS accepts `errors stdout`, the one place it can log to.
  if (d.args.length > 0 && d.args[0]!.text !== 'stdout') errorAt(d.args[0]!, NAME, `invalid log file: ${d.args[0]!.text}`, 'ERR_BAD_VALUE');
  expectArgs(d, NAME, 0, 1);
  const opts: ErrorsOptions = {};
  for (const p of d.block ?? []) {
    switch (p.name.text) {
      case 'stacktrace':
        expectArgs(p, NAME, 0);
        opts.stacktrace = true;
        break;
      case 'consolidate':
        (opts.consolidate ??= []).push(parseConsolidate(p));
        break;
      default:
        unknownProperty(p, NAME, ['consolidate', 'stacktrace']);
    }
  }
  return opts;
}

/** The consolidate patterns compile (YAML options never pass through parse()). */
export function check(options: ErrorsOptions, ctx: CheckContext): void {
  (options.consolidate ?? []).forEach((c, i) => {
    try {
      new RegExp(c.pattern);
    } catch (err) {
      errorAt(ctx.at(['consolidate', i, 'pattern']), NAME, `invalid regular expression '${c.pattern}': ${(err as Error).message}`, 'ERR_BAD_VALUE');
    }
  });
}

export function setup(options: ErrorsOptions, env: SetupEnv): Handler {
  const consolidator = new Consolidator(
    (options.consolidate ?? []).map((c) => ({
      periodMs: parseDuration(c.duration), source: c.pattern, re: new RegExp(c.pattern), level: c.level ?? 'error', showFirst: c.show_first ?? false,
    })),
    env.logger,
  );
  const logger = env.logger;
  return {
    serve: (req, next) => serveErrors(consolidator, logger, req, next),
    // A fast answer is never an error: nothing for errors to do on the fast path.
    fast: {},
    logsErrors: true,
    close: () => consolidator.stop(),
  };
}
