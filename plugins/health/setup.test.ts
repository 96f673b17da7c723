import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf } from '../pkg/test-env.js';
import { parse } from './setup.js';

describe('health parse', () => {
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'health', want: {} },
    { text: 'health :8091', want: { address: ':8091' } },
    { text: 'health localhost:8092 {\n lameduck 1s\n}', want: { address: 'localhost:8092', lameduck: '1s' } },
    { text: 'health [::1]:8080', want: { address: '[::1]:8080' } },
    { text: 'health {\n lameduck 5s\n}', want: { lameduck: '5s' } },
    { text: 'health 8080', err: /Corefile:2:8: plugin\/health: '8080' is not an address/ },
    { text: 'health :8080 :8081', err: /wrong argument count/ },
    { text: 'health {\n lameduck five\n}', err: /Corefile:3:11: .*'five' is not a duration/ },
    { text: 'health {\n lameduck\n}', err: /wrong argument count: want 1, got 0/ },
    { text: 'health {\n lamedcuk 5s\n}', err: /unknown property 'lamedcuk' \(did you mean 'lameduck'\?\)/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text))).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text))).to.throw(ConfigError, c.err!);
    });
  }
});
