// Real child processes for the tests: a fixture server that imports the BUILT package, driven by
// real signals; lines of stdout are awaited with generous bounds, and every child is killed in
// afterEach even when a test fails.
import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

export const packageDir: string = fileURLToPath(new URL('../../', import.meta.url));
export const repoRoot: string = fileURLToPath(new URL('../../../../', import.meta.url));
const builtEntry = join(packageDir, 'dist', 'index.js');

/** Throws unless dist/ exists and is newer than src/: the children import dist/, not the source. */
export function assertBuilt(): void {
  if (!existsSync(builtEntry)) {
    throw new Error(`${builtEntry} is missing: run \`npx tsup\` in ${packageDir} (turbo's test task builds first).`);
  }
  if (statSync(builtEntry).mtimeMs < newestSourceMtime(join(packageDir, 'src'))) {
    throw new Error(`${builtEntry} is older than src/: run \`npx tsup\` in ${packageDir} before testing.`);
  }
}

function newestSourceMtime(dir: string): number {
  let newest = 0;
  for (const entry of readdirSync(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) {
      if (entry.name !== 'fixtures' && entry.name !== 'test-support') newest = Math.max(newest, newestSourceMtime(path));
    } else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts')) {
      newest = Math.max(newest, statSync(path).mtimeMs);
    }
  }
  return newest;
}

export interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
}

export class Child {
  readonly lines: string[] = [];
  stderr = '';
  exit: Exit | undefined;
  readonly #process: ChildProcessWithoutNullStreams;
  readonly #listeners = new Set<() => void>();
  readonly #name: string;

  constructor(command: string, args: readonly string[], env: Record<string, string>, name: string) {
    this.#name = name;
    this.#process = spawn(command, [...args], {
      cwd: packageDir,
      env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', FORCE_COLOR: '0', ...env },
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    createInterface({ input: this.#process.stdout }).on('line', (line) => {
      this.lines.push(line);
      this.#notify();
    });
    this.#process.stderr.setEncoding('utf8').on('data', (chunk: string) => {
      this.stderr += chunk;
    });
    this.#process.stdin.on('error', () => {});
    this.#process.on('error', (error) => {
      this.stderr += `spawn error: ${error.message}\n`;
      this.exit ??= { code: null, signal: null };
      this.#notify();
    });
    this.#process.on('exit', (code, signal) => {
      this.exit = { code, signal };
      this.#notify();
    });
  }

  send(signal: NodeJS.Signals): void {
    const { pid } = this.#process;
    if (pid === undefined) throw new Error(`${this.#name} has no pid: ${this.stderr}`);
    process.kill(pid, signal);
  }

  command(line: string): void {
    this.#process.stdin.write(`${line}\n`);
  }

  /** The first line starting with `prefix`, waiting up to `timeoutMs`. */
  line(prefix: string, timeoutMs: number): Promise<string> {
    return this.#until(`a line starting with "${prefix}"`, timeoutMs, () => {
      const found = this.lines.find((line) => line.startsWith(prefix));
      if (found !== undefined) return found;
      if (this.exit) throw this.failure(`exited before printing a line starting with "${prefix}"`);
      return undefined;
    });
  }

  exited(timeoutMs: number): Promise<Exit> {
    return this.#until('the child to exit', timeoutMs, () => this.exit);
  }

  kill(): void {
    if (this.exit === undefined && this.#process.exitCode === null && this.#process.signalCode === null) {
      this.#process.kill('SIGKILL');
    }
  }

  failure(message: string): Error {
    return new Error(`${this.#name} ${message}.\nexit: ${JSON.stringify(this.exit)}\nstdout:\n${this.lines.join('\n')}\nstderr:\n${this.stderr}`);
  }

  #until<T>(what: string, timeoutMs: number, check: () => T | undefined): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const attempt = (): boolean => {
        try {
          const value = check();
          if (value === undefined) return false;
          resolve(value);
        } catch (error) {
          reject(error);
        }
        return true;
      };
      if (attempt()) return;
      const listener = (): void => {
        if (attempt()) done();
      };
      const timer = setTimeout(() => {
        done();
        reject(this.failure(`did not produce ${what} within ${timeoutMs} ms`));
      }, timeoutMs);
      const done = (): void => {
        clearTimeout(timer);
        this.#listeners.delete(listener);
      };
      this.#listeners.add(listener);
    });
  }

  #notify(): void {
    for (const listener of [...this.#listeners]) listener();
  }
}
