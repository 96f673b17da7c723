import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf, testEnv } from '../pkg/test-env.js';
import { parse, period, setup } from './setup.js';

describe('reload parse', () => {
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'reload', want: {} },
    { text: 'reload 10s', want: { interval: '10s' } },
    { text: 'reload 1m 20s', want: { interval: '1m', jitter: '20s' } },
    { text: 'reload 1s', err: /Corefile:2:8: plugin\/reload: interval value must be greater or equal to 2s/ },
    { text: 'reload 10s 500ms', err: /Corefile:2:12: plugin\/reload: jitter value must be greater or equal to 1s/ },
    { text: 'reload soon', err: /'soon' is not a duration/ },
    { text: 'reload 10s 5s 1s', err: /wrong argument count: want 0 to 2, got 3/ },
  ];
  for (const c of cases) {
    it(c.text, () => {
      if (c.want) return void expect(parse(directiveOf(c.text))).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text))).to.throw(ConfigError, c.err!);
    });
  }

  it('rejects a too short interval from YAML at setup', () => {
    expect(() => setup({ interval: '1s' }, testEnv())).to.throw(/interval value must be greater or equal to 2s/);
  });
});

describe('reload period', () => {
  const cases = [
    { interval: 30_000, jitter: 15_000, random: 0, want: 22_500 },
    { interval: 30_000, jitter: 15_000, random: 0.5, want: 30_000 },
    { interval: 30_000, jitter: 15_000, random: 0.999999, want: 37_500 },
    // JITTER above INTERVAL/2 is capped there: 10s +/- 2.5s.
    { interval: 10_000, jitter: 15_000, random: 0, want: 7_500 },
  ];
  for (const c of cases) {
    it(`${c.interval}ms, jitter ${c.jitter}ms, random ${c.random} -> ${c.want}ms`, () => {
      expect(period(c.interval, c.jitter, () => c.random)).to.equal(c.want);
    });
  }
});
