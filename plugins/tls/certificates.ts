// The certificate files of the tls plugin: read into Node's SecureContextOptions, re-read on demand,
// and watched so that a renewed certificate (cert-manager, a rotated Secret) is served without a reload.
import { readFileSync, unwatchFile, watchFile, type StatsListener } from 'node:fs';
import path from 'node:path';
import type { SecureContextOptions } from 'node:tls';
import type { TlsProvider } from '../../core/plugin.js';

/** CoreDNS's client_auth values that Node's TLS can honour exactly. */
export const CLIENT_AUTH = ['nocert', 'require_and_verify'] as const;
export type ClientAuth = (typeof CLIENT_AUTH)[number];

/** How often the files' mtimes are checked (polling survives the symlink swaps of Kubernetes Secrets). */
const WATCH_INTERVAL_MS = 1000;

export interface CertificatePaths {
  readonly cert: string;
  readonly key: string;
  readonly ca?: string;
  readonly client_auth?: ClientAuth;
}

export class CertificateFiles implements TlsProvider {
  readonly #paths: string[];
  readonly #cert: string;
  readonly #key: string;
  readonly #ca: string | undefined;
  readonly #verifyClients: boolean;
  readonly #watchers: [string, StatsListener][] = [];

  constructor(options: CertificatePaths, dir: string) {
    this.#cert = path.resolve(dir, options.cert);
    this.#key = path.resolve(dir, options.key);
    this.#ca = options.ca === undefined ? undefined : path.resolve(dir, options.ca);
    this.#verifyClients = options.client_auth === 'require_and_verify';
    this.#paths = [this.#cert, this.#key, ...(this.#ca ? [this.#ca] : [])];
  }

  secureContext(): SecureContextOptions & { requestCert?: boolean; rejectUnauthorized?: boolean } {
    return {
      cert: read(this.#cert, 'certificate'),
      key: read(this.#key, 'key'),
      ...(this.#ca ? { ca: read(this.#ca, 'CA') } : {}),
      ...(this.#verifyClients ? { requestCert: true, rejectUnauthorized: true } : {}),
    };
  }

  watch(onChange: () => void): void {
    for (const file of this.#paths) {
      const listener: StatsListener = (now, before) => {
        if (now.mtimeMs !== before.mtimeMs || now.size !== before.size || now.ino !== before.ino) onChange();
      };
      watchFile(file, { interval: WATCH_INTERVAL_MS, persistent: false }, listener);
      this.#watchers.push([file, listener]);
    }
  }

  close(): void {
    for (const [file, listener] of this.#watchers.splice(0)) unwatchFile(file, listener);
  }
}

function read(file: string, what: string): Buffer {
  try {
    return readFileSync(file);
  } catch (err) {
    throw new Error(`cannot read the ${what} file ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`, { cause: err });
  }
}
