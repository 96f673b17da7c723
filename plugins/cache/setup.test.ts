import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { directiveOf } from '../pkg/test-env.js';
import { cacheConfig, parse } from './setup.js';

describe('cache parse', () => {
  const ctx = { zones: [''], configDir: '.' };
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'cache', want: {} },
    { text: 'cache 30', want: { ttl: 30 } },
    { text: 'cache 30 example.org Example.NET.', want: { ttl: 30, zones: ['example.org', 'example.net'] } },
    { text: 'cache example.org', want: { zones: ['example.org'] } },
    { text: 'cache {\n success 5000\n denial 2500 60 1\n}', want: { success: { capacity: 5000 }, denial: { capacity: 2500, ttl: 60, minttl: 1 } } },
    { text: 'cache {\n prefetch 10 1m 20%\n}', want: { prefetch: { amount: 10, duration: '1m', percentage: 20 } } },
    { text: 'cache {\n serve_stale\n}', want: { serve_stale: {} } },
    { text: 'cache {\n serve_stale 10m verify\n}', want: { serve_stale: { duration: '10m', refresh_mode: 'verify' } } },
    { text: 'cache {\n servfail 0\n keepttl\n}', want: { servfail: '0', keepttl: true } },
    { text: 'cache {\n disable success example.org\n disable denial\n}', want: { disable: { success: ['example.org'], denial: [''] } } },
    { text: 'cache 0', err: /Corefile:2:7: plugin\/cache: cache TTL can not be zero or negative: 0/ },
    { text: 'cache {\n success\n}', err: /wrong argument count/ },
    { text: 'cache {\n success 10 0\n}', err: /cache TTL can not be zero or negative/ },
    { text: 'cache {\n prefetch 10 1m 20\n}', err: /last character of percentage should be '%'/ },
    { text: 'cache {\n prefetch 10 1m 95%\n}', err: /percentage should fall in range \[10, 90\]: 95/ },
    { text: 'cache {\n serve_stale 1h later\n}', err: /'later' must be one of immediate, verify/ },
    { text: 'cache {\n servfail 6m\n}', err: /caching SERVFAIL responses over 5 minutes is not permitted/ },
    { text: 'cache {\n disable everything\n}', err: /must be one of success, denial/ },
    { text: 'cache {\n keepttl 5\n}', err: /wrong argument count/ },
    { text: 'cache {\n prefech 10\n}', err: /unknown property 'prefech' \(did you mean 'prefetch'\?\)/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text), ctx)).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text), ctx)).to.throw(ConfigError, c.err!);
    });
  }
});

describe('cache defaults', () => {
  it('are CoreDNS\'s: 3600s/1800s maximum, 5s minimum, 10,000 entries, servfail 5s', () => {
    const c = cacheConfig({}, ['cluster.local']);
    expect(c.zones).to.deep.equal(['cluster.local']);
    expect(c.success).to.deep.equal({ capacity: 10_000, maxTtl: 3600, minTtl: 5 });
    expect(c.denial).to.deep.equal({ capacity: 10_000, maxTtl: 1800, minTtl: 5 });
    expect(c.servfailTtl).to.equal(5);
    expect(c.prefetch).to.equal(0);
    expect(c.staleUpToMs).to.equal(0);
  });
  it('cache TTL caps both caches unless success/denial say otherwise', () => {
    const c = cacheConfig({ ttl: 30, denial: { capacity: 5, ttl: 10 } }, ['']);
    expect(c.success.maxTtl).to.equal(30);
    expect(c.denial).to.deep.equal({ capacity: 5, maxTtl: 10, minTtl: 5 });
  });
  it('serve_stale defaults to 1h immediate', () => {
    const c = cacheConfig({ serve_stale: {} }, ['']);
    expect(c.staleUpToMs).to.equal(3_600_000);
    expect(c.verifyStale).to.equal(false);
  });
});

describe('cache options schema', () => {
  it('accepts what parse produces and the YAML shape, and rejects unknown keys', async () => {
    const { validateOptions } = await import('../../core/config/validate.js');
    const plugin = (await import('./index.js')).default;
    const at = () => ({ file: 'nodens.yaml', line: 1, col: 1 });
    const good = { ttl: 30, zones: ['example.org'], success: { capacity: 10, ttl: 60, minttl: 1 }, prefetch: { amount: 5, duration: '30s', percentage: 20 }, serve_stale: { duration: '1h', refresh_mode: 'verify' }, servfail: '0', disable: { denial: ['example.org'] }, keepttl: true };
    expect(() => validateOptions(plugin, good, at)).not.to.throw();
    expect(() => validateOptions(plugin, { serve_stale: { refresh_mode: 'later' } }, at)).to.throw(/refresh_mode|must be equal/);
    expect(() => validateOptions(plugin, { succes: { capacity: 1 } }, at)).to.throw(/succes/);
  });
});
