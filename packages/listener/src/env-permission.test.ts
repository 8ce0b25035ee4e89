import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';
import { LISTEN_PID_WRAPPER, fixture, killAll, listeningSocket, startChild } from './test-support/processes.ts';

afterAll(() => killAll());

const DENO = fileURLToPath(new URL('../../../node_modules/.bin/deno', import.meta.url));
const VARIABLES = 'LISTEN_FDS,LISTEN_PID,LISTEN_FDNAMES,QUIESCE_READY_FD,QUIESCE_SUPERVISOR_PID,QUIESCE_CONTROL_FD';

/** Runs the probe on Deno with exactly `flags` (never a prompt) and returns its parsed line. */
function probeOnDeno(flags: readonly string[], env: Record<string, string> = {}) {
  const result = spawnSync(DENO, ['run', '--quiet', '--no-prompt', ...flags, fixture('env-probe.mjs')], {
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1', ...env },
    encoding: 'utf8',
    timeout: 30_000,
  });
  const line = result.stdout.split('\n').find((l) => l.startsWith('probe '));
  return { status: result.status, stderr: result.stderr, probe: line ? JSON.parse(line.slice('probe '.length)) : undefined };
}

describe('Deno without env access to the systemd variables', () => {
  it('starts without --allow-env: the variables are skipped with one line naming the flag', () => {
    const { status, stderr, probe } = probeOnDeno([], { LISTEN_FDS: '1', LISTEN_PID: '1' });
    expect(stderr).toBe('');
    expect(status).toBe(0);
    expect(probe.listeners).toEqual([]);
    expect(probe.ready).toBe(false);
    expect(probe.warnings).toHaveLength(1);
    expect(probe.warnings[0]).toContain('no env access to LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, QUIESCE_READY_FD, QUIESCE_SUPERVISOR_PID, QUIESCE_CONTROL_FD');
    expect(probe.warnings[0]).toContain(`--allow-env=${VARIABLES}`);
  });

  it('reads exactly the variables --allow-env grants, and skips the others', () => {
    // LISTEN_PID of another process is read (and refused as not ours): the permitted variables are read.
    const { status, probe } = probeOnDeno(['--allow-env=LISTEN_FDS,LISTEN_PID'], { LISTEN_FDS: '1', LISTEN_PID: '1' });
    expect(status).toBe(0);
    expect(probe.warnings).toHaveLength(2);
    expect(probe.warnings[0]).toContain('no env access to LISTEN_FDNAMES, QUIESCE_READY_FD, QUIESCE_SUPERVISOR_PID, QUIESCE_CONTROL_FD');
    expect(probe.warnings[1]).toMatch(/LISTEN_PID=1 is not this process/);
  });

  it('says nothing with the documented --allow-env and no inherited sockets', () => {
    const { status, probe } = probeOnDeno([`--allow-env=${VARIABLES}`]);
    expect(status).toBe(0);
    expect(probe).toEqual({ listeners: [], ready: false, warnings: [] });
  });
});

describe('Deno with the documented --allow-env and no --allow-read', () => {
  it('adopts an inherited listening socket without reading /proc (listen() judges the fd)', async () => {
    const socket = await listeningSocket();
    try {
      const child = startChild(
        [...LISTEN_PID_WRAPPER, DENO, 'run', '--quiet', '--no-prompt', `--allow-env=${VARIABLES}`, fixture('env-probe.mjs')],
        { env: { LISTEN_FDS: '1', LISTEN_FDNAMES: 'http', DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' }, extraStdio: [socket.fd] },
      );
      const exit = await child.exited;
      expect(child.stderr.join('\n')).toBe('');
      expect(exit.code).toBe(0);
      const line = child.stdout.find((l) => l.startsWith('probe '));
      expect(JSON.parse(line!.slice('probe '.length))).toEqual({ listeners: [{ fd: 3, name: 'http' }], ready: false, warnings: [] });
    } finally {
      socket.server.close();
    }
  });
});
