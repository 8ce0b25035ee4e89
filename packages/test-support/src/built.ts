import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Directories under src/ that hold no package source. */
const NOT_SOURCE = new Set(['fixtures', 'test-support']);

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (!NOT_SOURCE.has(entry.name)) newest = Math.max(newest, newestSourceMtime(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

/**
 * Throws unless the package at `packageDir` (a path or a `file:` URL of it) has a `dist/index.js`
 * newer than every source file in its `src/` (tests and fixtures excluded): children that import
 * `dist/` would otherwise test the wrong code. turbo's test task builds first.
 *
 * @example
 * ```ts
 * beforeAll(() => assertBuilt(new URL('../', import.meta.url)));
 * ```
 */
export function assertBuilt(packageDir: string | URL): void {
  const dir = typeof packageDir === 'string' ? packageDir : fileURLToPath(packageDir);
  const builtEntry = join(dir, 'dist', 'index.js');
  if (!existsSync(builtEntry)) {
    throw new Error(`${builtEntry} is missing: run \`npx tsup\` in ${dir} (turbo's test task builds first).`);
  }
  if (statSync(builtEntry).mtimeMs < newestSourceMtime(join(dir, 'src'))) {
    throw new Error(`${builtEntry} is older than src/: run \`npx tsup\` in ${dir} before testing.`);
  }
}
