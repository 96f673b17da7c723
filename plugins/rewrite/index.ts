import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

// Each `rewrite` line is one rule; the lines of a block run in file order (a `stop` rule that applied ends them).
export default definePlugin({ name: 'rewrite', schema, parse, setup, once: false });
