import { definePlugin } from '../../core/plugin.js';
import { answers, check, parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'etcd', schema, parse, check, answers, setup });
