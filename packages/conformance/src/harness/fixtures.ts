import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HarnessOptionError } from './errors.ts';
import { checkString } from './internal/validate.ts';

/**
 * The absolute path of a server script in `packages/conformance/src/fixtures/`. Throws
 * {@link HarnessOptionError} naming the path if there is no such file.
 *
 * @example
 * ```ts
 * const server = await startServer({ runtime: 'bun', script: fixturePath('plain-server.mjs') });
 * ```
 */
export function fixturePath(name: string): string {
  checkString('name', name);
  const path = fileURLToPath(new URL(`../fixtures/${name}`, import.meta.url));
  if (!existsSync(path)) {
    throw new HarnessOptionError('name', name, `the name of a file in src/fixtures/ (${path} does not exist)`);
  }
  return path;
}
