import { expect } from 'chai';
import { asConfigError, ConfigError, ConfigErrors, didYouMean } from './errors.js';

describe('config/errors', () => {
  describe('didYouMean', () => {
    const directives = ['errors', 'log', 'cache', 'hosts', 'kubernetes', 'forward', 'prometheus', 'health', 'ready', 'reload', 'loadbalance'];
    const properties = ['fallthrough', 'ttl', 'no_reverse', 'reload', 'path', 'health_check', 'max_fails', 'force_tcp', 'endpoint_pod_names'];
    const rows: { word: string; candidates: readonly string[]; want: string | undefined; why: string }[] = [
      { word: 'fallthru', candidates: properties, want: 'fallthrough', why: 'the misspellings table (distance 4)' },
      { word: 'fallthough', candidates: properties, want: 'fallthrough', why: 'one letter missing' },
      { word: 'paht', candidates: properties, want: 'path', why: 'two letters swapped count as one edit' },
      { word: 'tll', candidates: properties, want: 'ttl', why: 'a swap in a short word' },
      { word: 'errrors', candidates: directives, want: 'errors', why: 'a doubled letter' },
      { word: 'prometheous', candidates: directives, want: 'prometheus', why: 'table' },
      { word: 'proxy', candidates: directives, want: 'forward', why: "CoreDNS's old name" },
      { word: 'healthcheck', candidates: properties, want: 'health_check', why: 'table' },
      { word: 'endpoint_pod_name', candidates: properties, want: 'endpoint_pod_names', why: 'long words allow more edits' },
      { word: 'kubernets', candidates: directives, want: 'kubernetes', why: 'one letter missing' },
      { word: 'fallth', candidates: properties, want: 'fallthrough', why: 'a word cut short' },
      { word: 'foo', candidates: directives, want: undefined, why: 'short words allow one edit only' },
      { word: 'dnssec', candidates: directives, want: undefined, why: 'nothing close' },
      { word: 'tls', candidates: properties, want: undefined, why: 'two edits from ttl is too many for three letters' },
      { word: 'proxy', candidates: properties, want: undefined, why: 'the table only suggests a candidate that exists' },
    ];
    for (const r of rows) it(`${r.word} -> ${r.want ?? 'nothing'} (${r.why})`, () => expect(didYouMean(r.word, r.candidates)).to.equal(r.want));
  });

  it('names the plugin once', () => {
    const rows: [string, string][] = [
      ['forward: wrong argument count', 'wrong argument count'],
      ['plugin/kubernetes: at least one zone', 'at least one zone'],
      ['success: wrong argument count', 'success: wrong argument count'],
    ];
    for (const [detail, want] of rows) {
      const plugin = detail.includes('kubernetes') ? 'kubernetes' : 'forward';
      const e = new ConfigError({ file: 'C', line: 1, col: 2 }, plugin, detail);
      expect(e.detail).to.equal(want);
      expect(e.message).to.equal(`C:1:2: plugin/${plugin}: ${want}`);
    }
  });

  it('recognises a ConfigError of another copy by its fields, and nothing else', () => {
    const shaped = Object.assign(new Error('/abs/C:3:5: plugin/t: bad'), { name: 'ConfigError', code: 'ERR_BAD_VALUE', detail: 'bad', plugin: 't', pos: { file: 'C', line: 3, col: 5 } });
    expect(asConfigError(shaped)?.message).to.equal('C:3:5: plugin/t: bad');
    const notOnes: unknown[] = [new Error('x'), { name: 'ConfigError' }, Object.assign(new Error('x'), { name: 'ConfigError', code: 'EACCES', detail: 'x' }), 'ConfigError', null];
    for (const n of notOnes) expect(asConfigError(n)).to.equal(undefined);
  });

  it('ConfigErrors is its first error, and reports them all with a count', () => {
    const a = new ConfigError({ file: 'C', line: 1, col: 1 }, undefined, 'one', 'ERR_SYNTAX');
    a.sourceLine = 'x';
    const b = new ConfigError({ file: 'C', line: 2, col: 3 }, 'log', 'two');
    const all = new ConfigErrors([a, b], 'C');
    expect([all.message, all.code, all.pos]).to.deep.equal([a.message, 'ERR_SYNTAX', a.pos]);
    expect(all.report()).to.equal('C:1:1: one\n    x\n    ^\nC:2:3: plugin/log: two\n2 errors in C');
  });
});
