// health: `health [ADDRESS] { lameduck DURATION }` -> options -> the HTTP endpoint.
import { DURATION_PATTERN, durationArg, expectArgs, parseDuration, unknownProperty } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { ADDRESS_SCHEMA, addressArg } from '../pkg/http-listener.js';
import { Health } from './health.js';

export interface HealthConfig {
  /** `HOST:PORT`; default `:8080`. */
  address?: string;
  /** Go-style duration; default none. */
  lameduck?: string;
}

export const DEFAULT_ADDRESS = ':8080';

export const schema: JsonSchema = {
  type: 'object',
  properties: {
    address: ADDRESS_SCHEMA,
    lameduck: { type: 'string', pattern: DURATION_PATTERN },
  },
  additionalProperties: false,
};

export function parse(d: Directive): HealthConfig {
  const args = expectArgs(d, 'health', 0, 1);
  const options: HealthConfig = {};
  if (args[0]) {
    options.address = addressArg(args[0], 'health', ':8080 or 127.0.0.1:8080');
  }
  for (const prop of d.block ?? []) {
    switch (prop.name.text) {
      case 'lameduck':
        options.lameduck = durationArg(expectArgs(prop, 'health', 1)[0]!, 'health');
        break;
      default:
        unknownProperty(prop, 'health', ['lameduck']);
    }
  }
  return options;
}

export function setup(options: HealthConfig, env: SetupEnv): Handler {
  const health = new Health(
    { address: options.address ?? DEFAULT_ADDRESS, lameduckMs: options.lameduck ? parseDuration(options.lameduck) : 0 },
    env.logger,
    env.metrics,
  );
  env.onStartup(() => health.start());
  env.onShutdown(() => health.lameduck());
  return health;
}
