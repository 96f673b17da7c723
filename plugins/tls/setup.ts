// tls: `tls CERT KEY [CA] { client_auth ... }` -> options -> the certificate provider of the block's
// tls:// and https:// listeners.
import { expectArgs, oneOf, unknownProperty } from '../../core/config/args.js';
import type { Directive } from '../../core/config/types.js';
import type { Handler, JsonSchema, SetupEnv } from '../../core/plugin.js';
import { CertificateFiles, CLIENT_AUTH, type ClientAuth } from './certificates.js';

const NAME = 'tls';

export interface TlsOptions {
  cert: string;
  key: string;
  ca?: string;
  client_auth?: ClientAuth;
}

export const schema: JsonSchema = {
  type: 'object',
  properties: {
    cert: { type: 'string', minLength: 1 },
    key: { type: 'string', minLength: 1 },
    ca: { type: 'string', minLength: 1 },
    client_auth: { enum: [...CLIENT_AUTH] },
  },
  required: ['cert', 'key'],
  additionalProperties: false,
};

export function parse(d: Directive): TlsOptions {
  const [cert, key, ca] = expectArgs(d, NAME, 2, 3);
  const options: TlsOptions = { cert: cert!.text, key: key!.text, ...(ca ? { ca: ca.text } : {}) };
  for (const prop of d.block ?? []) {
    if (prop.name.text !== 'client_auth') unknownProperty(prop, NAME, ['client_auth']);
    options.client_auth = oneOf(expectArgs(prop, NAME, 1)[0]!, NAME, CLIENT_AUTH);
  }
  return options;
}

export function setup(options: TlsOptions, env: SetupEnv): Handler {
  const files = new CertificateFiles(options, env.configDir);
  // Read now, so that a missing file is a config error at start (and a failed reload), with its name.
  files.secureContext();
  return { tls: files, close: () => files.close() };
}
