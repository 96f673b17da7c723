import { definePlugin } from 'nodens';
import { parse, schema, setup } from './setup.js';

// CH is the class chaos answers: a server block with chaos passes CH queries to its chain (CoreDNS's EnableChaos).
export default definePlugin({ name: 'chaos', schema, parse, setup, classes: ['CH'] });
