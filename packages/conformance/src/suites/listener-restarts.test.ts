import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  capabilities,
  childPids,
  isUnderTest,
  killAllChildren,
  processState,
  repoRoot,
  type Runtime,
  type RuntimeCommand,
  runtimeCommand,
  runtimeVersion,
  type ServerHandle,
  ServerStartError,
  sleep,
  startServer,
  until,
} from '@quiesce/test-support';
import { assertClientKeptUp, type LoadResult, fixturePath, openConnection, runFreshConnectionLoad, runKeepAliveLoad } from '../harness/index.ts';
import { exampleTargets } from './targets.ts';

// Node-only behaviour: skipped when QUIESCE_TEST_RUNTIMES leaves Node out.
const describeOnNode = describe.skipIf(!isUnderTest('node'));

// Restarts under load, measured from outside: bounded keep-alive and fresh-connection load on
// loopback while the server restarts several times, by a hot restart on SIGUSR2 (Node) or by
// `quiesce run` + SIGHUP (Node, Bun, Deno). The goal is zero failed requests: no reset or lost
// request (ambiguous) and no refused connection, because the listening socket is never closed.

/** Processes started by restarts (not children of the test), killed after each test. */
const strays = new Set<number>();
afterEach(async () => {
  for (const pid of strays) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // gone
    }
  }
  strays.clear();
  await killAllChildren();
});
afterAll(() => killAllChildren());

const ROLLS = 3;
const TEST_TIMEOUT_MS = 180_000;

/** The children of `pid` and their states (Z = zombie), from /proc. */
function children(pid: number): { pid: number; state: string }[] {
  return childPids(pid).flatMap((child) => {
    const state = processState(child);
    return state === undefined ? [] : [{ pid: child, state }];
  });
}

function alive(pid: number): boolean {
  const state = processState(pid);
  return state !== undefined && state !== 'Z';
}

/** Runs both loads (bounded in count and time) while `work` restarts the server; stops them after. */
async function underLoad(port: number, work: () => Promise<void>): Promise<{ keepAlive: LoadResult; fresh: LoadResult }> {
  const controller = new AbortController();
  const bounds = { port, until: controller.signal, maxDurationMs: 120_000, maxRequests: 400_000, requestTimeoutMs: 15_000 };
  const keepAlive = runKeepAliveLoad({ ...bounds, clients: 8 });
  const fresh = runFreshConnectionLoad({ ...bounds, clients: 4 });
  try {
    await sleep(300);
    await work();
    await sleep(300);
  } finally {
    controller.abort();
  }
  return { keepAlive: await keepAlive, fresh: await fresh };
}

/** Every attempt ended with a response: nothing lost, reset, refused or broken. */
function expectNoFailure(name: string, result: LoadResult): void {
  assertClientKeptUp(result);
  const { totals } = result;
  const failed = totals.ambiguous + totals.refused + totals.error;
  expect(failed, `${name}: ${JSON.stringify({ totals, failures: result.failures.slice(0, 5) })}`).toBe(0);
  expect(totals.ok).toBeGreaterThan(50);
}

/**
 * SIGHUPs the supervisor `rolls` times: each time generation i + 1 becomes ready, generation i exits
 * with code 0, and no child is left a zombie.
 */
async function rollGenerations(sup: ServerHandle, rolls: number): Promise<void> {
  for (let i = 1; i <= rolls; i++) {
    sup.kill('SIGHUP');
    await sup.waitForLine(new RegExp(`generation ${i + 1} \\(pid \\d+\\) ready`), 30_000);
    await sup.waitForLine(new RegExp(`generation ${i} \\(pid \\d+\\) exited with code 0`), 30_000);
    expect(children(sup.pid).filter((child) => child.state === 'Z')).toEqual([]);
  }
}

/** Starts `quiesce run --listen 127.0.0.1:0 -- <generation>` and waits until generation 1 is ready. */
async function supervise(generation: RuntimeCommand, env: Record<string, string> = {}): Promise<ServerHandle> {
  const sup = await startServer({
    runtime: 'node',
    script: fixturePath('listener-run.mjs'),
    args: ['run', '--listen', '127.0.0.1:0', '--', generation.command, ...generation.args],
    env: { ...generation.env, ...env },
    readyPattern: /quiesce run: listening on (http:\/\/\S+)/,
  });
  await sup.waitForLine(/generation 1 \(pid \d+\) ready/, 30_000);
  return sup;
}

async function pidServing(port: number): Promise<number> {
  const connection = await openConnection(port);
  try {
    const response = await connection.request({ path: '/', headers: { Connection: 'close' } });
    return Number(response.headers['x-pid']);
  } finally {
    connection.destroy();
  }
}

describeOnNode('a second instance on a taken port (Node, the example\'s wiring)', () => {
  it('exits 1 within 5 s with a message naming the port, the holder\'s pid and its state', async () => {
    const first = await startServer({ runtime: 'node', script: fixturePath('listener-node-server.mjs') });
    const started = Date.now();
    const second = await startServer({
      runtime: 'node',
      script: fixturePath('listener-node-server.mjs'),
      env: { PORT: String(first.port) },
      timeoutMs: 5_000,
    }).catch((error: unknown) => error);
    expect(Date.now() - started).toBeLessThan(5_000);
    expect(second).toBeInstanceOf(ServerStartError);
    const failure = second as ServerStartError;
    expect(failure.reason).toBe('exited');
    expect(failure.message).toContain('exited (code 1)');
    const stderr = failure.stderr.join('\n');
    expect(stderr).toContain(`Cannot listen on 127.0.0.1:${first.port}: address already in use`);
    expect(stderr).toContain(`Held by pid ${first.pid} (`);
    expect(stderr).toContain('in LISTEN');
    first.kill('SIGTERM');
    expect((await first.exited).code).toBe(0);
  });
});

describeOnNode('hot restart on SIGUSR2 under load (Node)', () => {
  it(`restarts ${ROLLS} times with zero failed requests; a new process that crashes at start leaves the old one serving`, async () => {
    const crashFile = join(tmpdir(), `quiesce-listener-crash-${process.pid}-${Date.now()}`);
    const server = await startServer({ runtime: 'node', script: fixturePath('listener-node-server.mjs'), env: { CRASH_FILE: crashFile } });
    const readyLines = (): string[] => server.lines.filter((line) => /^hot restart: pid \d+ is ready/.test(line));
    let current = server.pid;
    try {
      const { keepAlive, fresh } = await underLoad(server.port, async () => {
        for (let i = 1; i <= ROLLS; i++) {
          const old = current;
          process.kill(old, 'SIGUSR2');
          await until(() => readyLines().length === i, 30_000, `hot restart ${i} to be ready`);
          current = Number(/pid (\d+) is ready/.exec(readyLines()[i - 1]!)?.[1]);
          strays.add(current);
          await until(() => !alive(old), 30_000, `pid ${old} to drain and exit`);
        }
        writeFileSync(crashFile, '');
        process.kill(current, 'SIGUSR2');
        await until(() => server.lines.some((line) => line.startsWith('hot restart rolled back:')), 30_000, 'the rollback');
        await sleep(300);
        expect(alive(current)).toBe(true);
      });
      expectNoFailure('keep-alive', keepAlive);
      expectNoFailure('fresh connections', fresh);
      expect(keepAlive.totals.connectionCloseResponses).toBeGreaterThan(0);
      expect(server.lines.find((line) => line.startsWith('hot restart rolled back:'))).toMatch(
        new RegExp(`exited with code 1 before it was ready; pid ${current} keeps serving`),
      );
      expect(await pidServing(server.port)).toBe(current);
      const exit = await server.exited;
      expect(exit.code).toBe(0);
    } finally {
      rmSync(crashFile, { force: true });
      if (alive(current)) process.kill(current, 'SIGTERM');
    }
  }, TEST_TIMEOUT_MS);
});

describeOnNode('the example app restarts itself on SIGUSR2 (Node)', () => {
  it('hands its socket to a new process twice under load with zero failed requests, then stops with SIGTERM', async () => {
    const server = await startServer({ runtime: 'node', script: `${repoRoot()}/apps/example/dist/server.js` });
    const readyLines = (): string[] => server.lines.filter((line) => /^hot restart: pid \d+ is ready/.test(line));
    let current = server.pid;
    try {
      const { keepAlive, fresh } = await underLoad(server.port, async () => {
        for (let i = 1; i <= 2; i++) {
          const old = current;
          process.kill(old, 'SIGUSR2');
          await until(() => readyLines().length === i, 30_000, `hot restart ${i} to be ready`);
          current = Number(/pid (\d+) is ready/.exec(readyLines()[i - 1]!)?.[1]);
          strays.add(current);
          await until(() => !alive(old), 30_000, `pid ${old} to drain and exit`);
        }
      });
      expectNoFailure('keep-alive', keepAlive);
      expectNoFailure('fresh connections', fresh);
      expect(await pidServing(server.port)).toBe(current);
      expect((await server.exited).code).toBe(0); // the first process drained and exited cleanly
      process.kill(current, 'SIGTERM');
      await until(() => !alive(current), 30_000, `pid ${current} to stop on SIGTERM`);
    } finally {
      if (alive(current)) process.kill(current, 'SIGKILL');
    }
  }, TEST_TIMEOUT_MS);
});

const runTargets: readonly { runtime: Runtime; label: string; fixture: string }[] = (['node', 'bun', 'deno'] as const)
  .filter((runtime) => isUnderTest(runtime))
  .map((runtime) => ({
    runtime,
    label: `${runtime} ${runtimeVersion(runtime)}`,
    fixture: runtime === 'node' ? 'listener-node-server.mjs' : 'listener-runtime-server.mjs',
  }));

describe.each(runTargets)('quiesce run + SIGHUP under load ($label)', ({ runtime, fixture }) => {
  let server: ServerHandle | undefined;
  afterEach(async () => {
    if (server) for (const child of children(server.pid)) strays.add(child.pid);
    server = undefined;
  });

  it(`rolls ${ROLLS} generations with zero failed requests and no zombie; a generation that crashes at start leaves the old one serving`, async () => {
    const crashFile = join(tmpdir(), `quiesce-run-crash-${runtime}-${process.pid}-${Date.now()}`);
    const generation = runtimeCommand(runtime, fixturePath(fixture));
    server = await supervise(generation, { CRASH_FILE: crashFile });
    const sup = server;
    try {
      const { keepAlive, fresh } = await underLoad(sup.port, async () => {
        await rollGenerations(sup, ROLLS);
        writeFileSync(crashFile, '');
        sup.kill('SIGHUP');
        await sup.waitForLine(
          new RegExp(`generation ${ROLLS + 2} \\(pid \\d+\\) failed: exited with code 1 before it was ready; rolled back, generation ${ROLLS + 1} \\(pid \\d+\\) keeps serving`),
          30_000,
        );
        rmSync(crashFile);
        sup.kill('SIGHUP');
        await sup.waitForLine(new RegExp(`generation ${ROLLS + 3} \\(pid \\d+\\) ready`), 30_000);
        await sup.waitForLine(new RegExp(`generation ${ROLLS + 1} \\(pid \\d+\\) exited with code 0`), 30_000);
      });
      expectNoFailure('keep-alive', keepAlive);
      expectNoFailure('fresh connections', fresh);
      expect(keepAlive.totals.connectionCloseResponses).toBeGreaterThan(0);
      const live = children(sup.pid);
      expect(live).toHaveLength(1);
      expect(live[0]!.state).not.toBe('Z');
      expect(await pidServing(sup.port)).toBe(live[0]!.pid);
      sup.kill('SIGTERM');
      const exit = await sup.exited;
      expect(exit.code).toBe(0);
      expect(sup.lines).toContain('quiesce run: exiting with code 0');
    } finally {
      rmSync(crashFile, { force: true });
    }
  }, TEST_TIMEOUT_MS);
});

describe.each(exampleTargets)('the example app under quiesce run + SIGHUP ($label)', ({ runtime, script }) => {
  let server: ServerHandle | undefined;
  afterEach(async () => {
    if (server) for (const child of children(server.pid)) strays.add(child.pid);
    server = undefined;
  });

  it('serves the inherited socket, rolls twice under load with zero failed requests, then stops with the supervisor', async () => {
    const generation = runtimeCommand(runtime, script);
    server = await supervise(generation);
    const sup = server;
    // The app adopted the supervisor's socket (it would otherwise bind its own port 3000 and fail
    // or serve elsewhere): it prints the supervisor's address.
    await sup.waitForLine(new RegExp(`^listening on http://127\\.0\\.0\\.1:${sup.port}$`), 30_000);
    // Bun.serve and Deno.serve cannot adopt a socket: their adapters switch to node:net / node:http and say so.
    const notice = sup.lines.find((line) => line.includes('cannot adopt the inherited socket'));
    if (capabilities(runtime).servesInheritedSocket) expect(notice).toBeUndefined();
    else expect(notice).toMatch(runtime === 'bun' ? /^quiesce: Bun\.serve cannot adopt the inherited socket \(fd 3, listen-0\); serving it through node:net \+ node:http instead$/ : /^quiesce: Deno\.serve cannot adopt the inherited socket \(fd 3, listen-0\); serving it through node:http instead$/);
    const { keepAlive, fresh } = await underLoad(sup.port, () => rollGenerations(sup, 2));
    expectNoFailure('keep-alive', keepAlive);
    expectNoFailure('fresh connections', fresh);
    expect(keepAlive.totals.connectionCloseResponses).toBeGreaterThan(0);
    const live = children(sup.pid);
    expect(live).toHaveLength(1);
    expect(await pidServing(sup.port)).toBe(live[0]!.pid);
    sup.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.lines).toContain('quiesce run: exiting with code 0');
  }, TEST_TIMEOUT_MS);
});

const readmeTargets: readonly { runtime: Runtime; readme: string; fixture: string }[] = [
  { runtime: 'bun', readme: 'packages/bun/README.md', fixture: 'bun-readme-snippet.ts' },
  { runtime: 'deno', readme: 'packages/deno/README.md', fixture: 'deno-readme-snippet.ts' },
];

describe.each(readmeTargets)('the @quiesce/$runtime README snippet, unchanged, under quiesce run + SIGHUP', ({ runtime, readme, fixture }) => {
  let server: ServerHandle | undefined;
  afterEach(async () => {
    if (server) for (const child of children(server.pid)) strays.add(child.pid);
    server = undefined;
  });

  it('the fixture is the README snippet, character for character', () => {
    const snippet = /```ts\n([\s\S]*?)```/.exec(readFileSync(join(repoRoot(), readme), 'utf8'))?.[1];
    const copy = readFileSync(fixturePath(fixture), 'utf8').replace(/^(\/\/.*\n)+/, '');
    expect(copy).toBe(snippet);
  });

  it('reports readiness by itself and rolls twice under load with zero failed requests, then stops with the supervisor', async () => {
    const generation = runtimeCommand(runtime, fixturePath(fixture));
    server = await supervise(generation);
    // supervise() waits for generation 1 to be ready: before the library reported readiness by
    // itself, that never came, and the supervisor replaced each generation after --ready-timeout.
    const sup = server;
    const { keepAlive, fresh } = await underLoad(sup.port, () => rollGenerations(sup, 2));
    expectNoFailure('keep-alive', keepAlive);
    expectNoFailure('fresh connections', fresh);
    expect(keepAlive.totals.connectionCloseResponses).toBeGreaterThan(0);
    expect(children(sup.pid)).toHaveLength(1);
    expect(sup.lines.filter((line) => /generation \d+ \(pid \d+\) failed/.test(line))).toEqual([]);
    sup.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
    expect(sup.lines).toContain('quiesce run: exiting with code 0');
  }, TEST_TIMEOUT_MS);
});
