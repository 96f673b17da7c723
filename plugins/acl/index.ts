import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

// "This plugin can be used multiple times per Server Block" (CoreDNS's acl README).
export default definePlugin({ name: 'acl', schema, parse, setup, once: false });
