import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

// Several `template` lines in one block run in file order, each falling through to the next.
export default definePlugin({ name: 'template', schema, parse, setup, once: false });
