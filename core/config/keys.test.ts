import { expect } from 'chai';
import { ConfigError } from './errors.js';
import { parseServerKey } from './keys.js';

const tok = (text: string) => ({ text, pos: { file: 'F', line: 3, col: 5 } });

describe('config/keys', () => {
  const ok: [string, { zone: string; port?: number; scheme?: string }[]][] = [
    ['.', [{ zone: '' }]],
    ['.:53', [{ zone: '', port: 53 }]],
    [':1053', [{ zone: '', port: 1053 }]],
    ['Example.ORG.', [{ zone: 'example.org' }]],
    ['example.org:1053', [{ zone: 'example.org', port: 1053 }]],
    ['dns://.:53', [{ zone: '', port: 53 }]],
    ['DNS://cluster.local', [{ zone: 'cluster.local' }]],
    ['.:0', [{ zone: '', port: 0 }]],
    ['10.0.0.0/24', [{ zone: '0.0.10.in-addr.arpa' }]],
    ['10.0.0.0/23:53', [{ zone: '0.0.10.in-addr.arpa', port: 53 }, { zone: '1.0.10.in-addr.arpa', port: 53 }]],
    ['fd00::/120', [{ zone: `${'0.'.repeat(28)}d.f.ip6.arpa` }]],
    ['dns://fd00::/124:1053', [{ zone: `${'0.'.repeat(29)}d.f.ip6.arpa`, port: 1053 }]],
    ['tls://.:853', [{ zone: '', port: 853, scheme: 'tls' }]],
    ['TLS://example.org', [{ zone: 'example.org', scheme: 'tls' }]],
    ['https://example.org:8443', [{ zone: 'example.org', port: 8443, scheme: 'https' }]],
  ];
  for (const [text, want] of ok) {
    it(`parses ${text}`, () => {
      const got = parseServerKey(tok(text)).map((k) => ({
        zone: k.zone, ...(k.port === undefined ? {} : { port: k.port }), ...(k.scheme === 'dns' ? {} : { scheme: k.scheme }),
      }));
      expect(got).to.deep.equal(want);
    });
  }

  const bad: [string, RegExp][] = [
    ['https3://example.org', /scheme https3:\/\/ not supported/],
    ['grpc://.', /scheme grpc:\/\/ not supported/],
    ['quic://.', /scheme quic:\/\/ not supported/],
    ['udp://.', /unknown scheme udp:\/\//],
    ['.:99999', /bad port '99999'/],
    ['.:http', /bad port 'http'/],
    ['example.org:', /bad port ''/],
    ['a..b', /not a valid zone/],
    ['10.0.0.0/33', /not a valid CIDR/],
  ];
  for (const [text, re] of bad) {
    it(`rejects ${text} at the key's position`, () => {
      try {
        parseServerKey(tok(text));
        expect.fail('no error');
      } catch (e) {
        expect(e).to.be.instanceOf(ConfigError);
        const err = e as ConfigError;
        expect(err.code).to.equal('ERR_BAD_VALUE');
        expect(err.pos).to.deep.equal({ file: 'F', line: 3, col: 5 });
        expect(err.message).to.match(re);
        expect(err.message.startsWith('F:3:5: ')).to.equal(true);
      }
    });
  }
});
