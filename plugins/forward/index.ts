import { definePlugin } from '../../core/plugin.js';
import { answers, check, parse, schema, setup, type ForwardOptions } from './setup.js';

export default definePlugin<ForwardOptions>({
  name: 'forward',
  schema,
  parse,
  check,
  answers,
  setup,
  // Several forward lines in one block run in file order (DESIGN: repeated instances).
  once: false,
});
