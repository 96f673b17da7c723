// minimal: Corefile parsing (no arguments, no block), the options schema, and setup.
import { expectArgs, expectNoBlock, type Directive, type Handler, type JsonSchema } from 'nodens';
import { serveMinimal } from './minimal.js';

const NAME = 'minimal';

export type MinimalOptions = Record<string, never>;

export const schema: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export function parse(d: Directive): MinimalOptions {
  expectArgs(d, NAME, 0);
  expectNoBlock(d, NAME);
  return {};
}

export function setup(): Handler {
  return { serve: (req, next) => serveMinimal(req, next) };
}
