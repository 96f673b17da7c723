import { definePlugin } from 'nodens';
import { check, parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'ratelimit', schema, parse, check, setup });
