import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup, type CacheOptions } from './setup.js';

export default definePlugin<CacheOptions>({
  name: 'cache',
  schema,
  parse,
  setup: (options, env) => setup(options, env),
});
