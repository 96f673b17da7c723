import { definePlugin } from '../../core/plugin.js';
import { check, parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'errors', schema, parse, check, setup });
