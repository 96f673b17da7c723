import { expect } from 'chai';
import { ConfigError } from '../../core/config/errors.js';
import { makeCertificates } from '../../test/fixtures/certificates.js';
import { directiveOf, testEnv } from '../pkg/test-env.js';
import { parse, setup } from './setup.js';

describe('tls parse', () => {
  const cases: { text: string; want?: object; err?: RegExp }[] = [
    { text: 'tls cert.pem key.pem', want: { cert: 'cert.pem', key: 'key.pem' } },
    { text: 'tls cert.pem key.pem ca.pem', want: { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem' } },
    { text: 'tls cert.pem key.pem ca.pem {\n client_auth require_and_verify\n}', want: { cert: 'cert.pem', key: 'key.pem', ca: 'ca.pem', client_auth: 'require_and_verify' } },
    { text: 'tls cert.pem', err: /wrong argument count/ },
    { text: 'tls a b c d', err: /wrong argument count/ },
    { text: 'tls a b {\n client_auth verify_if_given\n}', err: /'verify_if_given' must be one of nocert, require_and_verify/ },
    { text: 'tls a b {\n client_oath nocert\n}', err: /unknown property 'client_oath' \(did you mean 'client_auth'\?\)/ },
  ];
  for (const c of cases) {
    it(c.text.replace(/\n/g, ' '), () => {
      if (c.want) return void expect(parse(directiveOf(c.text))).to.deep.equal(c.want);
      expect(() => parse(directiveOf(c.text))).to.throw(ConfigError, c.err!);
    });
  }

  it('reads the files at setup, relative to the config folder, and names a missing one', () => {
    const certs = makeCertificates();
    try {
      const env = { ...testEnv({ plugin: 'tls' }), configDir: certs.dir };
      const handler = setup({ cert: 'server.pem', key: 'server.key', ca: 'ca.pem', client_auth: 'require_and_verify' }, env);
      const context = handler.tls!.secureContext();
      expect(context.cert!.toString()).to.match(/BEGIN CERTIFICATE/);
      expect(context).to.include({ requestCert: true, rejectUnauthorized: true });
      void handler.close?.();
      expect(() => setup({ cert: 'missing.pem', key: 'server.key' }, env)).to.throw(/cannot read the certificate file .*missing\.pem: ENOENT/);
    } finally {
      certs.remove();
    }
  });
});
