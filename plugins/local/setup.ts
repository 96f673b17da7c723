// local: Corefile parsing (`local { localhost_prefix on|off }`), the options schema, and setup.
import { errorAt, expectArgs, oneOf, unknownProperty, type Directive, type Handler, type JsonSchema, type SetupEnv } from 'nodens';
import { Local } from './local.js';

const NAME = 'local';
const PROPERTIES = ['localhost_prefix'] as const;

export interface LocalOptions {
  /** Answer legacy `localhost.<domain>` names too (default true, as CoreDNS). */
  localhostPrefix?: boolean;
}

export const schema: JsonSchema = {
  type: 'object',
  additionalProperties: false,
  properties: { localhostPrefix: { type: 'boolean' } },
};

export function parse(d: Directive): LocalOptions {
  expectArgs(d, NAME, 0);
  const options: LocalOptions = {};
  for (const prop of d.block ?? []) {
    switch (prop.name.text) {
      case 'localhost_prefix': {
        const [value] = expectArgs(prop, NAME, 1);
        if (prop.block) errorAt(prop.name, NAME, 'localhost_prefix takes no block', 'ERR_SYNTAX');
        options.localhostPrefix = oneOf(value!, NAME, ['on', 'off']) === 'on';
        break;
      }
      default:
        unknownProperty(prop, NAME, PROPERTIES);
    }
  }
  return options;
}

export function setup(options: LocalOptions, env: SetupEnv): Handler {
  const localhostRequests = env.metrics.counter('coredns_local_localhost_requests_total', 'Counter of special localhost subdomain requests.');
  const local = new Local({
    localhostPrefix: options.localhostPrefix ?? true,
    onLocalhost: (req) => {
      localhostRequests.inc();
      env.logger.debug(`Intercepting localhost query for "${req.qname}." ${req.qtype}, from ${req.client.address}`);
    },
  });
  return { serve: (req, next) => local.serve(req, next) };
}
