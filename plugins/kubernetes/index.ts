import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'kubernetes', schema, parse, setup });
