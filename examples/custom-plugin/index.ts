// An external nodens plugin, CoreDNS's whoami, as its own package. Load it with `nodens --plugin nodens-plugin-whoami`
// (installed in the current folder) or `--plugin ./dist/index.js`, or from code: createServer({ plugins: [whoami], ... }).
import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

export default definePlugin({
  name: 'whoami',
  schema,
  parse,
  setup,
  // Where it runs in every server block's chain: just before forward, like any plugin that answers.
  before: 'forward',
});
