// nsid: Corefile parsing (`nsid [DATA]`), the options schema, and setup.
import { hostname } from 'node:os';
import { expectNoBlock, type Directive, type Handler, type JsonSchema } from 'nodens';
import { Nsid } from './nsid.js';

const NAME = 'nsid';

export interface NsidOptions {
  /** Default: the host's name ('localhost' if it has none). */
  data?: string;
}

export const schema: JsonSchema = { type: 'object', additionalProperties: false, properties: { data: { type: 'string' } } };

export function parse(d: Directive): NsidOptions {
  expectNoBlock(d, NAME);
  // As CoreDNS: the arguments joined by one space.
  return d.args.length > 0 ? { data: d.args.map((t) => t.text).join(' ') } : {};
}

export function setup(options: NsidOptions): Handler {
  const nsid = new Nsid(options.data ?? (hostname() || 'localhost'));
  return { serve: (req, next) => nsid.serve(req, next) };
}
