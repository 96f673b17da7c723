// whoami: Corefile parsing (no arguments, no block), the options schema, and setup.
import { expectArgs, expectNoBlock, type Directive, type Handler, type JsonSchema } from 'nodens';
import { serveWhoami } from './whoami.js';

export type WhoamiOptions = Record<string, never>;

export const schema: JsonSchema = { type: 'object', additionalProperties: false, properties: {} };

export function parse(d: Directive): WhoamiOptions {
  expectArgs(d, 'whoami', 0);
  expectNoBlock(d, 'whoami');
  return {};
}

export function setup(): Handler {
  return { serve: (req) => serveWhoami(req) };
}
