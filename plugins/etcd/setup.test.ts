import { expect } from 'chai';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { configErrorOf } from '../../core/testing.js';

/** The etcd options of `skydns.local { etcd ... }`, parsed and schema-validated as the server would. */
function options(directive: string): unknown {
  const config = loadConfigText(`skydns.local 10.0.0.0/24 {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {}, configDir: '/' });
  return config.servers[0]!.plugins.find((p) => p.name === 'etcd')!.options;
}

describe('etcd: setup', () => {
  const ok: { corefile: string; want: unknown }[] = [
    { corefile: 'etcd', want: {} },
    { corefile: 'etcd skydns.local. 10.0.0.0/24', want: { zones: ['skydns.local', '0.0.10.in-addr.arpa'] } },
    {
      corefile: 'etcd skydns.local {\n  path /skydns\n  endpoint http://localhost:2379 http://localhost:4001\n  upstream\n  fallthrough\n}',
      want: { zones: ['skydns.local'], path: '/skydns', endpoint: ['http://localhost:2379', 'http://localhost:4001'], upstream: [], fallthrough: [] },
    },
    { corefile: 'etcd {\n  credentials root s3cret\n  fallthrough in-addr.arpa\n}', want: { credentials: { username: 'root', password: 's3cret' }, fallthrough: ['in-addr.arpa'] } },
    { corefile: 'etcd {\n  tls cert.pem key.pem ca.pem\n}', want: { tls: ['cert.pem', 'key.pem', 'ca.pem'] } },
    { corefile: 'etcd {\n  tls\n}', want: { tls: [] } },
  ];
  for (const c of ok) {
    it(`parses: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      expect(options(c.corefile)).to.deep.equal(c.want);
    });
  }

  const bad: { corefile: string; line: number; col: number; code: string; message: RegExp }[] = [
    { corefile: 'etcd {\n  paht /skydns\n}', line: 3, col: 3, code: 'ERR_UNKNOWN_PROPERTY', message: /did you mean 'path'/ },
    { corefile: 'etcd {\n  path\n}', line: 3, col: 3, code: 'ERR_ARG_COUNT', message: /want 1, got 0/ },
    { corefile: 'etcd {\n  endpoint localhost:2379\n}', line: 3, col: 12, code: 'ERR_BAD_VALUE', message: /must start with http/ },
    { corefile: 'etcd {\n  credentials root\n}', line: 3, col: 3, code: 'ERR_ARG_COUNT', message: /want 2, got 1/ },
    { corefile: 'etcd {\n  tls a b c d\n}', line: 3, col: 13, code: 'ERR_ARG_COUNT', message: /want 0 to 3, got 4/ },
  ];
  for (const c of bad) {
    it(`rejects at ${c.line}:${c.col}: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      const ce = configErrorOf(() => options(c.corefile));
      expect(ce.code).to.equal(c.code);
      expect(ce.plugin).to.equal('etcd');
      expect(ce.pos).to.include({ file: 'Corefile', line: c.line, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }
});
