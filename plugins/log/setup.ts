// log: Corefile parsing, the options schema, and setup.
import { expectArgs, oneOf, unknownProperty } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { normalizeZone } from '../../core/zones.js';
import { COMBINED_FORMAT, COMMON_FORMAT, compileFormat, RESPONSE_CLASSES, type ResponseClass } from './format.js';
import { serveLog } from './log.js';

const NAME = 'log';

export interface LogOptions {
  /** Names whose queries are logged; default: all ('.'). */
  names?: string[];
  /** The line format; default CoreDNS's Common Log Format. `{common}` and `{combined}` are shortcuts. */
  format?: string;
  /** Which replies to log; default all. */
  class?: ResponseClass[];
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: {
    names: { type: 'array', items: { type: 'string' } },
    format: { type: 'string' },
    class: { type: 'array', items: { enum: [...RESPONSE_CLASSES] }, minItems: 1 },
  },
};

export function parse(d: Directive): LogOptions {
  const opts: LogOptions = {};
  let args = d.args.map((t) => t.text);
  // CoreDNS: with two or more arguments, the last is the format when it holds a placeholder.
  if (args.length >= 2 && args[args.length - 1]!.includes('{')) {
    opts.format = args[args.length - 1]!;
    args = args.slice(0, -1);
  }
  if (args.length > 0) opts.names = args;
  for (const p of d.block ?? []) {
    switch (p.name.text) {
      case 'class':
        expectArgs(p, NAME, 1, Infinity);
        for (const t of p.args) (opts.class ??= []).push(oneOf(t, NAME, RESPONSE_CLASSES));
        break;
      default:
        unknownProperty(p, NAME, ['class']);
    }
  }
  return opts;
}

export function setup(options: LogOptions, env: SetupEnv): Handler {
  const format = options.format === undefined || options.format === '{common}' ? COMMON_FORMAT
    : options.format === '{combined}' ? COMBINED_FORMAT : options.format;
  const rule = {
    names: (options.names ?? ['.']).map(normalizeZone),
    render: compileFormat(format),
    classes: new Set<ResponseClass>(options.class ?? ['all']),
  };
  const logger = env.logger;
  return { serve: (req, next) => serveLog(rule, logger, req, next) };
}
