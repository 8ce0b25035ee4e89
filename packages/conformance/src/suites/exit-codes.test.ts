import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { killAllChildren, startServer } from '@quiesce/test-support';
import { fixturePath, openConnection } from '../harness/index.ts';

// The exit-code rule, end to end: a real process, a real SIGTERM, the code the shell sees, and the
// report line that must say the same. The code is the report's (decided once, in the lifecycle):
// 0 clean; 1 when a shutdown or cleanup hook failed, when the deadline cut anything, or when an
// uncaught error started the shutdown; a failed deregistration is named in the line and leaves 0.

afterEach(() => killAllChildren());
afterAll(() => killAllChildren());

const outcomes: readonly { scenario: string; code: number; line: RegExp }[] = [
  { scenario: 'clean', code: 0, line: /^quiesce: shutdown clean in \d+ms \(SIGTERM\): .*; hooks 2 ok, 0 failed; exit 0$/ },
  {
    scenario: 'shutdown-hook-failed',
    code: 1,
    line: /^quiesce: shutdown failed in \d+ms \(SIGTERM\): .*; hooks 1 ok, 1 failed \(flush-queue error "queue unreachable"\); exit 1$/,
  },
  {
    scenario: 'cleanup-hook-failed',
    code: 1,
    line: /^quiesce: shutdown failed in \d+ms \(SIGTERM\): .*; hooks 1 ok, 1 failed \(close-db \(cleanup\) error "db close failed"\); exit 1$/,
  },
  { scenario: 'forced', code: 1, line: /^quiesce: shutdown forced in \d+ms \(SIGTERM\): .*; exit 1$/ },
  {
    scenario: 'deregistration-failed',
    code: 0,
    line: /^quiesce: shutdown clean in \d+ms \(SIGTERM\): .*; deregistered etcd error \d+ms \("etcd unreachable"\); .*; hooks 3 ok, 0 failed; exit 0$/,
  },
];

describe('the exit code a supervisor sees is the report line’s (node:http, SIGTERM)', () => {
  it.each(outcomes)('$scenario → exit $code, and the line says so', async ({ scenario, code, line }) => {
    const server = await startServer({ runtime: 'node', script: fixturePath('exit-rule-server.mjs'), env: { EXIT_SCENARIO: scenario } });
    server.kill('SIGTERM');
    const exit = await server.exited;
    expect(exit.code).toBe(code);
    const report = server.stdout.find((l) => l.startsWith('quiesce: shutdown'));
    expect(report).toMatch(line);
  });

  it('an uncaught error (catchErrors) drains like a signal, then exits 1 although the drain was clean', async () => {
    const server = await startServer({ runtime: 'node', script: fixturePath('exit-rule-server.mjs'), env: { EXIT_SCENARIO: 'uncaught-error' } });
    const connection = await openConnection(server.port);
    expect((await connection.request({ path: '/crash' })).status).toBe(200);
    connection.destroy();
    const exit = await server.exited;
    expect(exit.code).toBe(1);
    expect(server.stdout.find((l) => l.startsWith('quiesce: shutdown'))).toMatch(/^quiesce: shutdown clean in \d+ms \(Error: boom\): .*; exit 1$/);
  });
});
