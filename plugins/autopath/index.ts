import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'autopath', schema, parse, setup });
