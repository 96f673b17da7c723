import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { loadConfigText } from '../../core/config/load.js';
import { createRegistry } from '../../core/create.js';
import { configErrorOf } from '../../core/testing.js';

/** The hosts options of `example.org { hosts ... }`, parsed and schema-validated as the server would. */
function options(directive: string): unknown {
  const config = loadConfigText(`example.org {\n${directive}\n}\n`, 'Corefile', { registry: createRegistry(), env: {}, configDir: '/' });
  return config.servers[0]!.plugins.find((p) => p.name === 'hosts')!.options;
}

describe('hosts: setup', () => {
  const ok: { corefile: string; want: unknown }[] = [
    { corefile: 'hosts', want: {} },
    { corefile: 'hosts /etc/hosts', want: { file: '/etc/hosts' } },
    { corefile: 'hosts example.hosts sub.example.org 10.0.0.0/24', want: { file: 'example.hosts', zones: ['sub.example.org', '0.0.10.in-addr.arpa'] } },
    {
      corefile: 'hosts {\n  10.0.0.1 a.example.org b.example.org\n  fd00::1 a.example.org\n  ttl 30\n  no_reverse\n  reload 1m30s\n  fallthrough\n}',
      want: { inline: ['10.0.0.1 a.example.org b.example.org', 'fd00::1 a.example.org'], ttl: 30, no_reverse: true, reload: '1m30s', fallthrough: [] },
    },
    { corefile: 'hosts {\n  reload 0\n  fallthrough in-addr.arpa\n  fallthrough_unsupported\n}', want: { reload: '0', fallthrough: ['in-addr.arpa'], fallthrough_unsupported: true } },
  ];
  for (const c of ok) {
    it(`parses: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      expect(options(c.corefile)).to.deep.equal(c.want);
    });
  }

  const bad: { corefile: string; line: number; col: number; code: string; message: RegExp }[] = [
    { corefile: 'hosts {\n  ttl 0\n}', line: 3, col: 7, code: 'ERR_BAD_VALUE', message: /out of range/ },
    { corefile: 'hosts {\n  ttl x\n}', line: 3, col: 7, code: 'ERR_BAD_VALUE', message: /not an integer/ },
    { corefile: 'hosts {\n  ttl\n}', line: 3, col: 3, code: 'ERR_ARG_COUNT', message: /want 1, got 0/ },
    { corefile: 'hosts {\n  reload soon\n}', line: 3, col: 10, code: 'ERR_BAD_VALUE', message: /not a duration/ },
    { corefile: 'hosts {\n  tll 30\n}', line: 3, col: 3, code: 'ERR_UNKNOWN_PROPERTY', message: /did you mean 'ttl'/ },
    { corefile: 'hosts {\n  fallthrough\n  10.0.0.1 late.example.org\n}', line: 4, col: 3, code: 'ERR_UNKNOWN_PROPERTY', message: /unknown property '10.0.0.1'/ },
    { corefile: 'hosts {\n  fallthrough_unsupported\n}', line: 3, col: 3, code: 'ERR_BAD_VALUE', message: /requires fallthrough/ },
    { corefile: 'hosts {\n  no_reverse yes\n}', line: 3, col: 14, code: 'ERR_ARG_COUNT', message: /want 0, got 1/ },
  ];
  for (const c of bad) {
    it(`rejects at ${c.line}:${c.col}: ${c.corefile.replace(/\n\s*/g, '; ')}`, () => {
      const ce = configErrorOf(() => options(c.corefile));
      expect(ce.code).to.equal(c.code);
      expect(ce.plugin).to.equal('hosts');
      expect(ce.pos).to.include({ file: 'Corefile', line: c.line, col: c.col });
      expect(ce.detail).to.match(c.message);
    });
  }

  it('is once per server block', () => {
    expect(() => options('hosts\nhosts')).to.throw(ConfigError);
  });
});
