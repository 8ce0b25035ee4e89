import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/** A throwaway self-signed certificate for `localhost`, as files (for servers started as children). */
export interface SelfSignedCertificate {
  /** Path of the private key (PEM). */
  readonly keyPath: string;
  /** Path of the certificate (PEM). */
  readonly certPath: string;
  /** `{ TLS_KEY, TLS_CERT }`: the paths, as the fixtures' environment takes them. */
  readonly env: Readonly<{ TLS_KEY: string; TLS_CERT: string }>;
  /** Deletes the files. Idempotent. */
  dispose(): void;
}

/**
 * Makes a self-signed RSA certificate for CN=localhost, valid one day, with `openssl` (Debian
 * package openssl), in a directory of its own under the system's temp directory. Throws if
 * `openssl` fails.
 *
 * @example
 * ```ts
 * const certificate = selfSignedCertificate();
 * const server = await startServer({ runtime: 'deno', script, env: certificate.env, readyPattern: /listening on (https:\/\/\S+)/ });
 * afterAll(() => certificate.dispose());
 * ```
 */
export function selfSignedCertificate(): SelfSignedCertificate {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-tls-'));
  const keyPath = join(dir, 'key.pem');
  const certPath = join(dir, 'cert.pem');
  execFileSync('openssl', ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-subj', '/CN=localhost', '-days', '1', '-keyout', keyPath, '-out', certPath], {
    stdio: 'ignore',
  });
  return {
    keyPath,
    certPath,
    env: { TLS_KEY: keyPath, TLS_CERT: certPath },
    dispose: () => rmSync(dir, { recursive: true, force: true }),
  };
}
