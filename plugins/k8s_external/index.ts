import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

export default definePlugin({ name: 'k8s_external', schema, parse, setup });
