import { expect } from 'chai';
import { mkdtempSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf, testEnv } from '../pkg/test-env.js';
import { parse, setup } from './setup.js';
import { parseAddress, resolveTo } from './to.js';

describe('forward parse', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'forward-'));
  writeFileSync(path.join(dir, 'resolv.conf'), '# comment\nsearch example.org\nnameserver 127.0.0.53\nnameserver ::1\noptions ndots:5\n');
  writeFileSync(path.join(dir, 'empty.conf'), 'search example.org\n');
  writeFileSync(path.join(dir, 'many.conf'), Array.from({ length: 15 }, (_, i) => `nameserver 127.0.0.${i + 1}`).join('\n'));
  const ctx = { zones: [''], configDir: dir };
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'forward . 127.0.0.1', want: { from: '', to: ['127.0.0.1'] } },
    { text: 'forward Example.ORG. dns://127.0.0.1:5300 [::1]:53 ::1', want: { from: 'example.org', to: ['dns://127.0.0.1:5300', '[::1]:53', '::1'] } },
    { text: 'forward 10.0.0.0/8 127.0.0.1', want: { from: '10.in-addr.arpa', to: ['127.0.0.1'] } },
    { text: 'forward . resolv.conf', want: { from: '', to: ['resolv.conf'] } },
    {
      text: 'forward . 127.0.0.1 {\n except Example.org b.test\n force_tcp\n prefer_udp\n expire 5s\n max_fails 0\n policy sequential\n max_concurrent 1000\n health_check 1s no_rec domain Example.org.\n}',
      want: {
        from: '', to: ['127.0.0.1'], except: ['example.org', 'b.test'], force_tcp: true, prefer_udp: true, expire: '5s', max_fails: 0,
        policy: 'sequential', max_concurrent: 1000, health_check: { duration: '1s', no_rec: true, domain: 'example.org' },
      },
    },
    { text: 'forward . 127.0.0.1 {\n no_case_randomization\n}', want: { from: '', to: ['127.0.0.1'], no_case_randomization: true } },
    { text: 'forward . 127.0.0.1 {\n no_case_randomization off\n}', err: /wrong argument count/ },
    { text: 'forward .', err: /Corefile:2:1: plugin\/forward: wrong argument count: want at least 2, got 1/ },
    { text: 'forward . tls://9.9.9.9', err: /Corefile:2:11: .*protocol 'tls:\/\/' is not supported/ },
    { text: 'forward . dns://nowhere', err: /is not an IP address with an optional port/ },
    { text: 'forward . 127.0.0.1:99999', err: /not an IP address, nor a readable resolv.conf file/ },
    { text: 'forward . empty.conf', err: /no nameserver found in 'empty.conf'/ },
    { text: 'forward . many.conf 127.0.0.1', err: /Corefile:2:21: .*more than 15 TOs configured: 16/ },
    { text: 'forward . 127.0.0.1 {\n policy fastest\n}', err: /'fastest' must be one of random, round_robin, sequential/ },
    { text: 'forward . 127.0.0.1 {\n max_fails -1\n}', err: /out of range/ },
    { text: 'forward . 127.0.0.1 {\n health_check soon\n}', err: /'soon' is not a duration/ },
    { text: 'forward . 127.0.0.1 {\n health_check 1s recursive\n}', err: /unexpected 'recursive'/ },
    { text: 'forward . 127.0.0.1 {\n force_tcp yes\n}', err: /wrong argument count/ },
    { text: 'forward . 127.0.0.1 {\n max_concurent 5\n}', err: /unknown property 'max_concurent' \(did you mean 'max_concurrent'\?\)/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text), ctx)).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text), ctx)).to.throw(ConfigError, c.err!);
    });
  }

  it('reads the nameserver lines of a resolv.conf file', () => {
    const r = resolveTo('resolv.conf', dir);
    expect('endpoints' in r && r.endpoints.map((e) => e.name)).to.deep.equal(['127.0.0.53:53', '[::1]:53']);
  });

  it('sets up one upstream per address, from files too', () => {
    const env = testEnv({ plugin: 'forward' });
    const f = setup({ from: '', to: ['resolv.conf', '127.0.0.1:5300'] }, { ...env, configDir: dir });
    expect(f.upstreams.map((u) => u.to.name)).to.deep.equal(['127.0.0.53:53', '[::1]:53', '127.0.0.1:5300']);
    f.close();
  });
});

describe('forward addresses', () => {
  const cases: [string, string | undefined][] = [
    ['127.0.0.1', '127.0.0.1:53'],
    ['127.0.0.1:5300', '127.0.0.1:5300'],
    ['::1', '[::1]:53'],
    ['[::1]:5300', '[::1]:5300'],
    ['[fe80::1]', '[fe80::1]:53'],
    ['localhost', undefined],
    ['127.0.0.1:0', undefined],
    ['127.0.0.1:x', undefined],
    ['300.0.0.1', undefined],
  ];
  for (const [text, want] of cases) it(text, () => expect(parseAddress(text)?.name).to.equal(want));
});

describe('forward options schema', () => {
  it('accepts what parse produces and the YAML shape, and rejects bad values', async () => {
    const { validateOptions } = await import('../../core/config/validate.js');
    const plugin = (await import('./index.js')).default;
    const at = () => ({ file: 'nodens.yaml', line: 1, col: 1 });
    const good = { from: '', to: ['127.0.0.1:53'], except: ['example.org'], force_tcp: true, expire: '5s', max_fails: 0, health_check: { duration: '1s', no_rec: true, domain: 'example.org' }, policy: 'round_robin', max_concurrent: 10, no_case_randomization: true };
    expect(() => validateOptions(plugin, good, at)).not.to.throw();
    expect(() => validateOptions(plugin, { from: '' }, at)).to.throw(/to/);
    expect(() => validateOptions(plugin, { from: '', to: ['127.0.0.1'], policy: 'fastest' }, at)).to.throw(/policy|must be equal/);
    expect(() => validateOptions(plugin, { from: '', to: ['127.0.0.1'], no_case_randomization: 'yes' }, at)).to.throw(/no_case_randomization|boolean/);
  });
});
