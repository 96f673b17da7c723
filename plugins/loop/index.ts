import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'loop', schema, parse, setup: (options, env) => setup(options, env) });
