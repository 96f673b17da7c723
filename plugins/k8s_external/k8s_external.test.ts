import { expect } from 'chai';
import { makeRequest, parseDirective, configErrorOf, stubNext, testEnv } from 'nodens/testing';
import k8sExternal from './index.js';
import { isExternalSource } from './k8s_external.js';
import { setup, type K8sExternalOptions } from './setup.js';

describe('k8s_external: setup (CoreDNS setup_test.go TestSetup)', () => {
  const ok: [string, K8sExternalOptions][] = [
    ['k8s_external', {}],
    ['k8s_external example.org', { zones: ['example.org'] }],
    ['k8s_external example.org {\n apex testdns\n}', { zones: ['example.org'], apex: 'testdns' }],
    ['k8s_external example.org {\n ttl 10\n headless\n fallthrough\n}', { zones: ['example.org'], ttl: 10, headless: true, fallthrough: [] }],
    ['k8s_external example.org {\n fallthrough ip6.arpa\n}', { zones: ['example.org'], fallthrough: ['ip6.arpa'] }],
  ];
  for (const [text, want] of ok) it(`parses ${text.replace(/\n\s*/g, '; ')}`, () => expect(parseDirective(k8sExternal, text)).to.deep.equal(want));

  const bad: [string, RegExp][] = [
    ['k8s_external example.org {\n ttl -1\n}', /out of range/],
    ['k8s_external example.org {\n apex\n}', /want 1/],
    ['k8s_external example.org {\n headles\n}', /did you mean 'headless'/],
  ];
  for (const [text, msg] of bad) it(`rejects ${text.replace(/\n\s*/g, '; ')}`, () => expect(configErrorOf(() => parseDirective(k8sExternal, text)).detail).to.match(msg));

  it('without a kubernetes plugin the zone is passed on (nothing to answer from)', async () => {
    const env = testEnv({ zones: ['example.org'] });
    const h = setup({}, env);
    await env.startup();
    const req = makeRequest('svc.ns.example.org', 'A');
    const next = stubNext(req);
    await h.serve!(req, next);
    expect(next.calls).to.equal(1);
  });

  it('a kubernetes instance is recognised by its external, externalAddresses and externalSerial methods', () => {
    expect(isExternalSource({ external: () => ({ services: [], rcode: 3 }), externalAddresses: () => [], externalSerial: () => 1 })).to.equal(true);
    expect(isExternalSource({ serve: () => undefined })).to.equal(false);
  });
});
