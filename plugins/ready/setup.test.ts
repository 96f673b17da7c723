import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf } from '../pkg/test-env.js';
import { parse } from './setup.js';

describe('ready parse', () => {
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'ready', want: {} },
    { text: 'ready localhost:8091', want: { address: 'localhost:8091' } },
    { text: 'ready {\n monitor continuously\n}', want: { monitor: 'continuously' } },
    { text: 'ready :8181 {\n monitor until-ready\n}', want: { address: ':8181', monitor: 'until-ready' } },
    { text: 'ready localhost', err: /Corefile:2:7: plugin\/ready: 'localhost' is not an address/ },
    { text: 'ready :1 :2', err: /wrong argument count/ },
    { text: 'ready {\n monitor sometimes\n}', err: /'sometimes' must be one of until-ready, continuously/ },
    { text: 'ready {\n monitr continuously\n}', err: /unknown property 'monitr' \(did you mean 'monitor'\?\)/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text))).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text))).to.throw(ConfigError, c.err!);
    });
  }
});
