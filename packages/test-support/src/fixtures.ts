import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { HarnessOptionError } from './errors.ts';
import { checkString } from './validate.ts';

/**
 * A resolver for files in the `fixtures/` directory next to the module at `moduleUrl`: it returns
 * a fixture's absolute path and throws {@link HarnessOptionError} naming the path if there is no
 * such file.
 *
 * @example
 * ```ts
 * const fixture = fixturesBeside(import.meta.url); // src/fixtures/ for src/acquire.test.ts
 * startChild([process.execPath, fixture('adopt-server.mjs')]);
 * ```
 */
export function fixturesBeside(moduleUrl: string): (name: string) => string {
  checkString('moduleUrl', moduleUrl);
  return (name: string): string => {
    checkString('name', name);
    const path = fileURLToPath(new URL(`fixtures/${name}`, moduleUrl));
    if (!existsSync(path)) {
      throw new HarnessOptionError('name', name, `the name of a file in fixtures/ (${path} does not exist)`);
    }
    return path;
  };
}
