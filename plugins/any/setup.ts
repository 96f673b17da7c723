// any: Corefile parsing (no arguments, no block), the options schema, and setup.
import { expectArgs, expectNoBlock, type Directive, type Handler, type JsonSchema } from 'nodens';
import { serveAny } from './any.js';

const NAME = 'any';

export type AnyOptions = Record<string, never>;

export const schema: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export function parse(d: Directive): AnyOptions {
  expectArgs(d, NAME, 0);
  expectNoBlock(d, NAME);
  return {};
}

export function setup(): Handler {
  return { serve: serveAny };
}
