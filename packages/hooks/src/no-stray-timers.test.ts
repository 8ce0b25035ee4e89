import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';

const distUrl = new URL('../dist/index.js', import.meta.url);
const children = new Set<ChildProcess>();

interface Exit {
  readonly code: number | null;
  readonly signal: NodeJS.Signals | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Runs `source` as an ES module in a fresh `node`; `dist` in the source is the built package's URL. */
function startNode(source: string): { child: ChildProcess; output: () => { stdout: string; stderr: string } } {
  const child = spawn(process.execPath, ['--input-type=module', '-e', source.replaceAll('$DIST', distUrl.href)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  children.add(child);
  let stdout = '';
  let stderr = '';
  child.stdout?.setEncoding('utf8').on('data', (chunk: string) => {
    stdout += chunk;
  });
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr += chunk;
  });
  return { child, output: () => ({ stdout, stderr }) };
}

/** Resolves with the exit, or `undefined` when the child is still running after `ms`. */
function exitWithin(
  started: ReturnType<typeof startNode>,
  ms: number,
): Promise<Exit | undefined> {
  const { child, output } = started;
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(undefined), ms);
    // 'close' rather than 'exit' so that all of stdout has been read.
    child.once('close', (code, signal) => {
      clearTimeout(timer);
      resolve({ code, signal, ...output() });
    });
  });
}

const HOOKS_THAT_FINISH_QUICKLY = `
  import { createShutdownHooks } from '$DIST';
  const sleep = (ms, signal) => new Promise((resolve, reject) => {
    const timer = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(timer); reject(signal.reason); }, { once: true });
  });
  const hooks = createShutdownHooks({ phases: ['drain', 'close'] });
  hooks.add('drain-a', (signal) => sleep(5, signal), { phase: 'drain', timeoutMs: 30000 });
  hooks.add('drain-b', (signal) => sleep(10, signal), { phase: 'drain', timeoutMs: 45000 });
  hooks.add('close', () => {}, { phase: 'close', timeoutMs: 50000 });
  const report = await hooks.run({ deadlineMs: 60000 });
  console.log(JSON.stringify({ ok: report.ok, deadlineHit: report.deadlineHit, totals: report.totals }));
`;

describe('a process that ran its hooks exits by itself (built package, real timers)', () => {
  beforeAll(() => {
    if (!existsSync(fileURLToPath(distUrl))) {
      throw new Error(`${fileURLToPath(distUrl)} is missing: build the package first (npx tsup).`);
    }
  });

  afterEach(() => {
    for (const child of children) {
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    }
    children.clear();
  });

  it('exits well before its 60 s deadline and per-hook timeouts once every hook has finished', async () => {
    const exit = await exitWithin(startNode(HOOKS_THAT_FINISH_QUICKLY), 10_000);

    expect(exit, 'the child was still running after 10 s: a timer keeps the event loop alive').toBeDefined();
    expect(exit?.stderr).toBe('');
    expect(exit?.code).toBe(0);
    expect(JSON.parse(exit?.stdout ?? '')).toEqual({
      ok: true,
      deadlineHit: false,
      totals: { total: 3, ok: 3, error: 0, timeout: 0, aborted: 0 },
    });
  }, 20_000);

  it('exits at the deadline when a hook never settles', async () => {
    const exit = await exitWithin(
      startNode(`
        import { createShutdownHooks } from '$DIST';
        const hooks = createShutdownHooks();
        hooks.add('stuck', () => new Promise(() => {}), { timeoutMs: 50000 });
        const report = await hooks.run({ deadlineMs: 100 });
        console.log(JSON.stringify({ deadlineHit: report.deadlineHit, status: report.hooks[0].status }));
      `),
      10_000,
    );

    expect(exit, 'the child was still running after 10 s').toBeDefined();
    expect(exit?.code).toBe(0);
    expect(JSON.parse(exit?.stdout ?? '')).toEqual({ deadlineHit: true, status: 'aborted' });
  }, 20_000);

  it('control: a deadline that is never disposed does keep the process alive, so the checks above can fail', async () => {
    const started = startNode(`
      import { Deadline } from '$DIST';
      new Deadline({ timeoutMs: 60000 });
      console.log('armed');
    `);
    const armed = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), 10_000);
      started.child.stdout?.on('data', () => {
        clearTimeout(timer);
        resolve(true);
      });
    });
    expect(armed).toBe(true);

    const exit = await exitWithin(started, 1_500);

    expect(exit).toBeUndefined();
  }, 20_000);
});
