import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository root (this package is `packages/doc-tests`). */
export const repoRoot: string = fileURLToPath(new URL('../../../', import.meta.url));

/** Where snippets are written to run: inside the repository, so that `import 'quiesce'` resolves as a user's would. */
export const snippetDir: string = fileURLToPath(new URL('../.snippets/', import.meta.url));

/** A JavaScript runtime a snippet runs on. */
export type Runtime = 'node' | 'bun' | 'deno';

export const RUNTIMES: readonly Runtime[] = ['node', 'bun', 'deno'];

/** The runtime binaries the monorepo installs (never whatever is on PATH); Node is the one running the tests. */
export const runtimeBinary: Readonly<Record<Runtime, string>> = {
  node: process.execPath,
  bun: join(repoRoot, 'node_modules/bun/bin/bun.exe'),
  deno: join(repoRoot, 'node_modules/deno/deno'),
};

/** One workspace package. */
export interface WorkspacePackage {
  readonly name: string;
  readonly dir: string;
  readonly private: boolean;
}

/** The packages under `packages/` and `apps/`. */
export function workspacePackages(): WorkspacePackage[] {
  const found: WorkspacePackage[] = [];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(repoRoot, group), { withFileTypes: true })) {
      const manifest = join(repoRoot, group, entry.name, 'package.json');
      if (!entry.isDirectory() || !existsSync(manifest)) continue;
      const parsed = JSON.parse(readFileSync(manifest, 'utf8')) as { name: string; private?: boolean };
      found.push({ name: parsed.name, dir: `${group}/${entry.name}`, private: parsed.private === true });
    }
  }
  return found;
}

/**
 * Every README the harness checks, relative to the root: `README.md`, `packages/* /README.md` and
 * `apps/* /README.md`, so that a new package's README is checked from its first commit.
 */
export function readmeFiles(): string[] {
  const files = ['README.md'];
  for (const group of ['packages', 'apps']) {
    for (const entry of readdirSync(join(repoRoot, group), { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      if (entry.isDirectory() && existsSync(join(repoRoot, group, entry.name, 'README.md'))) files.push(`${group}/${entry.name}/README.md`);
    }
  }
  return files;
}
