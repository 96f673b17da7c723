// bufsize: Corefile parsing (`bufsize [SIZE]`), the options schema, and setup.
import { expectArgs, expectNoBlock, intArg, type Directive, type Handler, type JsonSchema } from 'nodens';
import { serveBufsize } from './bufsize.js';

const NAME = 'bufsize';
/** DNS Flag Day 2020's value (http://www.dnsflagday.net/2020/). */
export const DEFAULT_SIZE = 1232;

export interface BufsizeOptions {
  /** 512..4096 (RFC 6891); default 1232. */
  size?: number;
}

export const schema: JsonSchema = {
  type: 'object', additionalProperties: false, properties: { size: { type: 'integer', minimum: 512, maximum: 4096 } },
};

export function parse(d: Directive): BufsizeOptions {
  const args = expectArgs(d, NAME, 0, 1);
  expectNoBlock(d, NAME);
  return args.length === 0 ? {} : { size: intArg(args[0]!, NAME, 512, 4096) };
}

export function setup(options: BufsizeOptions): Handler {
  const size = options.size ?? DEFAULT_SIZE;
  return { serve: (req, next) => serveBufsize(req, next, size) };
}
