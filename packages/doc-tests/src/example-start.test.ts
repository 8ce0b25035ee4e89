// The root README's way in: the start commands (block id 'start-commands') and "Try the graceful
// stop". Each command runs as a terminal would run it (its own process group; Ctrl-C is SIGINT to
// the whole group), and what the README says happens is checked: the server answers, logs one
// report line ending `exit 0`; run directly its exit code is 0, under npm the shell sees 130.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { driveProcess, freePort, get } from './drive-process.ts';
import { readAllReadmes } from './readme-plans.ts';
import { repoRoot } from './workspace.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
const startBlock = readAllReadmes()
  .flatMap((r) => r.plans)
  .find((plan) => plan.kind === 'checked-by' && plan.id === 'start-commands');
const commands = (startBlock?.block.code ?? '')
  .split('\n')
  .map((line) => line.replace(/#.*$/, '').trim())
  .filter((line) => line !== '');

const env = (port: number): Record<string, string> => ({
  PATH: process.env['PATH'] ?? '',
  HOME: process.env['HOME'] ?? '/tmp',
  PORT: String(port),
  TURBO_TELEMETRY_DISABLED: '1',
  DENO_NO_UPDATE_CHECK: '1',
  NO_COLOR: '1',
});
const report = /^quiesce: shutdown clean in \d+ms \(SIGINT\): .*; exit 0$/;

describe("the root README's start commands", () => {
  it('the block is there: npm start, npm run start:bun, npm run start:deno', () => {
    expect(commands).toEqual(['npm start', 'npm run start:bun', 'npm run start:deno']);
  });

  it.each(commands)('`%s` serves the example; Ctrl-C: the report says exit 0, and the shell sees 130 (npm ends by SIGINT)', async (command) => {
    // The README says so where it tells users to try it.
    expect(readme).toContain('Under `npm start` the shell shows 130 instead');
    const port = await freePort();
    const outcome = await driveProcess(
      { command: 'bash', args: ['-c', command], cwd: repoRoot, env: env(port) },
      { port, ready: /^listening on http:\/\//, get: '/', signals: ['SIGINT'], toGroup: true, timeoutMs: 120_000 },
    );
    const output = outcome.lines.join('\n');
    expect(outcome.problem, output).toBeUndefined();
    expect(outcome.response?.status, output).toBe(200);
    expect(outcome.lines.filter((line) => line.startsWith('quiesce: shutdown')), output).toEqual([expect.stringMatching(report)]);
    // A shell reports a process ended by SIGINT as 128 + 2 = 130.
    expect(outcome.exit, output).toEqual({ code: null, signal: 'SIGINT' });
  });
});

describe('"Try the graceful stop" in the root README', () => {
  it('run directly, Ctrl-C during a slow request: it is answered with Connection: close, one report line, exit 0', async () => {
    expect(readme).toContain('start the server with `node apps/example/dist/server.js`');
    expect(readme).toContain("curl -i 'http://127.0.0.1:3000/slow?ms=3000' &");
    const port = await freePort();
    let slow: ReturnType<typeof get> | undefined;
    const outcome = await driveProcess(
      { command: 'bash', args: ['-c', 'node apps/example/dist/server.js'], cwd: repoRoot, env: env(port) },
      {
        port,
        ready: /^listening on http:\/\//,
        // The slow request goes out first; Ctrl-C follows while it is in flight.
        get: '/',
        signals: ['SIGINT'],
        toGroup: true,
        timeoutMs: 30_000,
        beforeSignals: async () => {
          slow = get(port, '/slow?ms=1500', 10_000);
          await new Promise((resolve) => setTimeout(resolve, 300));
        },
      },
    );
    const output = outcome.lines.join('\n');
    const answer = await slow;
    expect(answer?.status, output).toBe(200);
    expect(answer?.headers['connection'], output).toBe('close');
    expect(outcome.lines.filter((line) => line.startsWith('quiesce: shutdown')), output).toEqual([expect.stringMatching(report)]);
    expect(outcome.exit, output).toEqual({ code: 0, signal: null });
  });
});
