import { spawnSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { HarnessOptionError, RuntimeMissingError } from './errors.ts';
import { checkArgs, checkString } from './validate.ts';

/** A JavaScript runtime the tests run children on. */
export type Runtime = 'node' | 'bun' | 'deno';

/** Every runtime, in the order suites iterate over them. */
export const RUNTIMES: readonly Runtime[] = Object.freeze(['node', 'bun', 'deno'] as const);

/**
 * The environment variable that picks the Node the tests run children on: a line installed under
 * `node_modules` (`22` or `node22` for `node_modules/node22/bin/node`), or the path of a `node`
 * binary. Unset: the Node running the tests (`process.execPath`). `npm run test:node-lines` sets it.
 */
export const NODE_UNDER_TEST_VARIABLE = 'QUIESCE_TEST_NODE';

/**
 * The environment variable that narrows the runtimes suites iterate over, e.g. `node` or
 * `node,deno`. Unset: all of {@link RUNTIMES}. The Node-lines matrix sets `node`: Bun and Deno do
 * not change with the Node line and run once, in `npm test`.
 */
export const RUNTIMES_UNDER_TEST_VARIABLE = 'QUIESCE_TEST_RUNTIMES';

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

/** Options for {@link runtimeCommand}. */
export interface RuntimeCommandOptions {
  /**
   * Deno's permission flags. Default `['-A']`; a test that proves a package needs no more than
   * some permissions passes exactly those, e.g. `['--no-prompt', '--allow-net=127.0.0.1']`.
   */
  readonly denoPermissions?: readonly string[];
}

/** The Node binary children run on, and why that one. */
export interface NodeUnderTest {
  /** Absolute path of the binary. */
  readonly binary: string;
  /** Its version without the `v`, e.g. `22.23.5`. */
  readonly version: string;
  /** `QUIESCE_TEST_NODE=22`, or `process.execPath` when the variable is unset. */
  readonly chosenBy: string;
}

let cachedRoot: string | undefined;

/**
 * The monorepo root: the nearest directory above this file whose package.json declares `workspaces`.
 * Throws if there is none (the package was copied out of the repository).
 *
 * @example
 * ```ts
 * const example = join(repoRoot(), 'apps/example/dist/server.js');
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
          'run the tests from inside the Quiesce repository.',
      );
    }
    dir = parent;
  }
}

/**
 * Where npm installs Node line `line` (an optional dependency, Linux x64 only):
 * `node_modules/node<line>/bin/node`. Does not check that it exists.
 *
 * @example
 * ```ts
 * nodeLineBinary(24); // /repo/node_modules/node24/bin/node
 * ```
 */
export function nodeLineBinary(line: number): string {
  if (!Number.isInteger(line) || line < 1) throw new HarnessOptionError('line', line, 'a Node major version such as 22');
  return join(repoRoot(), 'node_modules', `node${line}`, 'bin', 'node');
}

const versions = new Map<string, string>();

/** `--version` of a binary, once per binary; `process.versions` for the Node running this. */
function versionOf(binary: string, runtime: Runtime): string {
  const known = versions.get(binary);
  if (known !== undefined) return known;
  let version: string | undefined;
  if (runtime === 'node' && binary === process.execPath) version = process.versions.node;
  else {
    const result = spawnSync(binary, ['--version'], { encoding: 'utf8', timeout: 30_000, env: { ...process.env, DENO_NO_UPDATE_CHECK: '1' } });
    version = /(\d+\.\d+\.\d+)/.exec(result.stdout ?? '')?.[1];
    if (version === undefined) {
      throw new Error(`${binary} --version printed no version (status ${result.status}): ${result.stdout}${result.stderr}`, {
        cause: result.error,
      });
    }
  }
  versions.set(binary, version);
  return version;
}

let cachedNode: { key: string | undefined; node: NodeUnderTest } | undefined;

/**
 * The Node that tests run children on: {@link NODE_UNDER_TEST_VARIABLE} when set, else the Node
 * running the tests. Throws {@link RuntimeMissingError} when the chosen line is not installed (it
 * is Linux x64 only) and {@link HarnessOptionError} when the variable makes no sense.
 *
 * @example
 * ```ts
 * // QUIESCE_TEST_NODE=24 npx vitest run
 * nodeUnderTest(); // { binary: '/repo/node_modules/node24/bin/node', version: '24.22.3', chosenBy: 'QUIESCE_TEST_NODE=24' }
 * ```
 */
export function nodeUnderTest(): NodeUnderTest {
  const raw = process.env[NODE_UNDER_TEST_VARIABLE];
  const key = raw === undefined || raw.trim() === '' ? undefined : raw.trim();
  if (cachedNode !== undefined && cachedNode.key === key) return cachedNode.node;
  let binary: string;
  let chosenBy: string;
  if (key === undefined) {
    binary = process.execPath;
    chosenBy = 'process.execPath';
  } else {
    chosenBy = `${NODE_UNDER_TEST_VARIABLE}=${key}`;
    const line = /^(?:node)?(\d+)$/.exec(key);
    if (line) {
      binary = nodeLineBinary(Number(line[1]));
      if (!existsSync(binary)) throw new RuntimeMissingError(`node${line[1]}`, binary);
    } else if (isAbsolute(key) || key.includes('/')) {
      binary = resolve(key);
      if (!existsSync(binary)) throw new RuntimeMissingError('node', binary);
    } else {
      throw new HarnessOptionError(
        NODE_UNDER_TEST_VARIABLE,
        key,
        'a Node line installed under node_modules (e.g. 22 for node_modules/node22/bin/node) or the path of a node binary',
      );
    }
  }
  const node: NodeUnderTest = { binary, version: versionOf(binary, 'node'), chosenBy };
  cachedNode = { key, node };
  return node;
}

/**
 * The runtimes suites iterate over: {@link RUNTIMES} narrowed by {@link RUNTIMES_UNDER_TEST_VARIABLE}.
 * Throws {@link HarnessOptionError} on an unknown name, so a typo cannot silently test nothing.
 *
 * @example
 * ```ts
 * for (const runtime of runtimesUnderTest()) describe(`on ${runtime}`, () => { ... });
 * ```
 */
export function runtimesUnderTest(): readonly Runtime[] {
  const raw = process.env[RUNTIMES_UNDER_TEST_VARIABLE];
  if (raw === undefined || raw.trim() === '') return RUNTIMES;
  const names = raw.split(',').map((name) => name.trim()).filter((name) => name !== '');
  for (const name of names) checkRuntime(name, RUNTIMES_UNDER_TEST_VARIABLE);
  if (names.length === 0) throw new HarnessOptionError(RUNTIMES_UNDER_TEST_VARIABLE, raw, 'a comma-separated list of node, bun, deno');
  return RUNTIMES.filter((runtime) => names.includes(runtime));
}

/** Whether suites run on `runtime` in this run (see {@link runtimesUnderTest}). */
export function isUnderTest(runtime: Runtime): boolean {
  return runtimesUnderTest().includes(checkRuntime(runtime));
}

function checkRuntime(value: unknown, option = 'runtime'): Runtime {
  if (value !== 'node' && value !== 'bun' && value !== 'deno') {
    throw new HarnessOptionError(option, value, '"node", "bun" or "deno"');
  }
  return value;
}

/**
 * The absolute path of a runtime's binary: {@link nodeUnderTest} for `node`, and the binaries the
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
  if (runtime === 'node') return nodeUnderTest().binary;
  const path =
    runtime === 'bun'
      ? resolve(repoRoot(), 'node_modules/bun/bin/bun.exe')
      : resolve(repoRoot(), 'node_modules/deno/deno');
  if (!existsSync(path)) throw new RuntimeMissingError(runtime, path);
  return path;
}

/**
 * The version of the runtime children run on (`22.23.5`, `1.4.5`, `2.9.6`), asked once per binary.
 *
 * @example
 * ```ts
 * it(`pins Deno ${runtimeVersion('deno')}: …`, …);
 * ```
 */
export function runtimeVersion(runtime: Runtime): string {
  if (checkRuntime(runtime) === 'node') return nodeUnderTest().version;
  return versionOf(runtimeBinary(runtime), runtime);
}

/**
 * The command that runs `script` (a path) with `args` on `runtime`. Deno gets `run`, its permission
 * flags (default `-A`), `--quiet` and `DENO_NO_UPDATE_CHECK=1 NO_COLOR=1`, so that its output holds
 * only what the script prints. Throws {@link RuntimeMissingError} if the binary is missing,
 * {@link HarnessOptionError} on bad input.
 *
 * @example
 * ```ts
 * const { command, args, env } = runtimeCommand('deno', 'src/fixtures/plain-server.mjs');
 * spawn(command, args, { env: { ...process.env, ...env } });
 * ```
 */
export function runtimeCommand(
  runtime: Runtime,
  script: string,
  args: readonly string[] = [],
  options: RuntimeCommandOptions = {},
): RuntimeCommand {
  checkRuntime(runtime);
  checkString('script', script);
  checkArgs('args', args);
  const { denoPermissions = ['-A'] } = options;
  checkArgs('denoPermissions', denoPermissions);
  const command = runtimeBinary(runtime);
  switch (runtime) {
    case 'deno':
      return {
        runtime,
        command,
        args: ['run', ...denoPermissions, '--quiet', script, ...args],
        env: { DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
      };
    case 'bun':
      return { runtime, command, args: [script, ...args], env: { NO_COLOR: '1' } };
    default:
      return { runtime, command, args: [script, ...args], env: {} };
  }
}
