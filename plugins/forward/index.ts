import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup, type ForwardOptions } from './setup.js';

export default definePlugin<ForwardOptions>({
  name: 'forward',
  schema,
  parse,
  setup,
  // Several forward lines in one block run in file order (DESIGN: repeated instances).
  once: false,
});
