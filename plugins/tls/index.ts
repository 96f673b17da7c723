import { definePlugin } from '../../core/plugin.js';
import { parse, schema, setup, type TlsOptions } from './setup.js';

export default definePlugin<TlsOptions>({ name: 'tls', schema, parse, setup });
