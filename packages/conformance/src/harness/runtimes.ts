import { existsSync, readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessOptionError, RuntimeMissingError } from './errors.ts';
import { checkArgs, checkString } from './internal/validate.ts';

/** A JavaScript runtime the conformance suites run servers on. */
export type Runtime = 'node' | 'bun' | 'deno';

/** Every runtime, in the order suites iterate over them. */
export const RUNTIMES: readonly Runtime[] = Object.freeze(['node', 'bun', 'deno'] as const);

/** How to spawn a script on a runtime: `spawn(command, args, { env: { ...process.env, ...env } })`. */
export interface RuntimeCommand {
  readonly runtime: Runtime;
  /** Absolute path of the runtime binary. */
  readonly command: string;
  /** Arguments: runtime flags, the script, then the script's own arguments. */
  readonly args: readonly string[];
  /** Environment variables the runtime needs on top of the caller's. */
  readonly env: Readonly<Record<string, string>>;
}

let cachedRoot: string | undefined;

/**
 * The monorepo root: the nearest directory above this file whose package.json declares `workspaces`.
 * Throws if there is none (the harness was copied out of the repository).
 *
 * @example
 * ```ts
 * const bun = join(repoRoot(), 'node_modules/bun/bin/bun.exe');
 * ```
 */
export function repoRoot(): string {
  if (cachedRoot !== undefined) return cachedRoot;
  let dir = dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const manifest = join(dir, 'package.json');
    if (existsSync(manifest)) {
      const parsed: unknown = JSON.parse(readFileSync(manifest, 'utf8'));
      if (parsed !== null && typeof parsed === 'object' && 'workspaces' in parsed) {
        cachedRoot = dir;
        return dir;
      }
    }
    const parent = dirname(dir);
    if (parent === dir) {
      throw new Error(
        `No monorepo root (a package.json with "workspaces") above ${fileURLToPath(import.meta.url)}; ` +
          'run the conformance harness from inside the Quiesce repository.',
      );
    }
    dir = parent;
  }
}

function checkRuntime(value: unknown): Runtime {
  if (value !== 'node' && value !== 'bun' && value !== 'deno') {
    throw new HarnessOptionError('runtime', value, '"node", "bun" or "deno"');
  }
  return value;
}

/**
 * The absolute path of a runtime's binary: the running Node for `node`, and the binaries the
 * monorepo installs under `node_modules` for `bun` and `deno` (never whatever is on PATH).
 * Throws {@link RuntimeMissingError} if the file is missing, {@link HarnessOptionError} for an unknown runtime.
 *
 * @example
 * ```ts
 * console.log(runtimeBinary('deno')); // /repo/node_modules/deno/deno
 * ```
 */
export function runtimeBinary(runtime: Runtime): string {
  checkRuntime(runtime);
  if (runtime === 'node') return process.execPath;
  const path =
    runtime === 'bun'
      ? resolve(repoRoot(), 'node_modules/bun/bin/bun.exe')
      : resolve(repoRoot(), 'node_modules/deno/deno');
  if (!existsSync(path)) throw new RuntimeMissingError(runtime, path);
  return path;
}

/**
 * The command that runs `script` (a path) with `args` on `runtime`. Deno gets `run -A --quiet` and
 * `DENO_NO_UPDATE_CHECK=1 NO_COLOR=1`, so that its output holds only what the script prints.
 * Throws {@link RuntimeMissingError} if the binary is missing, {@link HarnessOptionError} on bad input.
 *
 * @example
 * ```ts
 * const { command, args, env } = runtimeCommand('deno', 'src/fixtures/plain-server.mjs');
 * spawn(command, args, { env: { ...process.env, ...env } });
 * ```
 */
export function runtimeCommand(runtime: Runtime, script: string, args: readonly string[] = []): RuntimeCommand {
  checkRuntime(runtime);
  checkString('script', script);
  checkArgs('args', args);
  const command = runtimeBinary(runtime);
  switch (runtime) {
    case 'deno':
      return {
        runtime,
        command,
        args: ['run', '-A', '--quiet', script, ...args],
        env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      };
    case 'bun':
      return { runtime, command, args: [script, ...args], env: { NO_COLOR: '1' } };
    default:
      return { runtime, command, args: [script, ...args], env: {} };
  }
}
