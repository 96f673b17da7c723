// ready: `ready [ADDRESS] { monitor until-ready|continuously }` -> options -> the HTTP endpoint.
import { expectArgs, oneOf, unknownProperty } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { ADDRESS_SCHEMA, addressArg } from '../pkg/http-listener.js';
import { Ready, type Monitor } from './ready.js';

export interface ReadyConfig {
  /** `HOST:PORT`; default `:8181`. */
  address?: string;
  /** Default `until-ready`. */
  monitor?: Monitor;
}

export const DEFAULT_ADDRESS = ':8181';
const MONITORS: readonly Monitor[] = ['until-ready', 'continuously'];

export const schema: JsonSchema = {
  type: 'object',
  properties: {
    address: ADDRESS_SCHEMA,
    monitor: { enum: MONITORS },
  },
  additionalProperties: false,
};

export function parse(d: Directive): ReadyConfig {
  const args = expectArgs(d, 'ready', 0, 1);
  const options: ReadyConfig = {};
  if (args[0]) {
    options.address = addressArg(args[0], 'ready', ':8181 or 127.0.0.1:8181');
  }
  for (const prop of d.block ?? []) {
    switch (prop.name.text) {
      case 'monitor':
        options.monitor = oneOf(expectArgs(prop, 'ready', 1)[0]!, 'ready', MONITORS);
        break;
      default:
        unknownProperty(prop, 'ready', ['monitor']);
    }
  }
  return options;
}

export function setup(options: ReadyConfig, env: SetupEnv): Handler {
  const ready = new Ready(options.address ?? DEFAULT_ADDRESS, options.monitor ?? 'until-ready', () => env.instances(), env.logger);
  env.onStartup(() => ready.start());
  env.onShutdown(() => ready.shutdown());
  return ready;
}
