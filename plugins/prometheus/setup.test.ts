import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf } from '../pkg/test-env.js';
import { parse } from './setup.js';

describe('prometheus parse', () => {
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'prometheus', want: {} },
    { text: 'prometheus :9153', want: { address: ':9153' } },
    { text: 'prometheus localhost:9253', want: { address: 'localhost:9253' } },
    { text: 'prometheus 9153', err: /Corefile:2:12: plugin\/prometheus: '9153' is not an address/ },
    { text: 'prometheus :1 :2', err: /wrong argument count/ },
    { text: 'prometheus {\n tls /etc/web.yml\n}', err: /Corefile:3:2: plugin\/prometheus: unknown property 'tls'/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text))).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text))).to.throw(ConfigError, c.err!);
    });
  }
});
