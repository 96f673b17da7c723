import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup } from './setup.js';

// Several log lines may stand in one block (each with its own names and format), as in CoreDNS.
export default definePlugin({ name: 'log', schema, parse, setup, once: false });
