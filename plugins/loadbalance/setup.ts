// loadbalance: Corefile parsing, the options schema, and setup.
import { errorAt } from '../../core/config/errors.js';
import { expectArgs, expectNoBlock } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema } from '../../core/plugin.js';
import { balanceAnswer, serveLoadbalance } from './loadbalance.js';

const NAME = 'loadbalance';

export interface LoadbalanceOptions {
  /** Only round_robin (the default) exists in nodens. */
  policy?: 'round_robin';
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { policy: { enum: ['round_robin'] } },
};

export function parse(d: Directive): LoadbalanceOptions {
  const args = expectArgs(d, NAME, 0, Infinity);
  expectNoBlock(d, NAME);
  if (args.length === 0) return {};
  const policy = args[0]!;
  if (policy.text === 'weighted') errorAt(policy, NAME, "policy 'weighted' is not supported by nodens (only round_robin)", 'ERR_BAD_VALUE');
  if (policy.text !== 'round_robin') errorAt(policy, NAME, `unknown policy: ${policy.text}`, 'ERR_BAD_VALUE');
  expectArgs(d, NAME, 0, 1);
  return { policy: 'round_robin' };
}

export function setup(): Handler {
  return {
    serve: (req, next) => serveLoadbalance(req, next),
    fast: { shape: (req, reply) => balanceAnswer(reply, req.qtype) },
  };
}
