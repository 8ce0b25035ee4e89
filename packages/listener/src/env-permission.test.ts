import { afterAll, describe, expect, it } from 'vitest';
import { fixturesBeside, isUnderTest, killAllChildren, LISTEN_PID_WRAPPER, listeningSocket, type RuntimeCommand, runtimeCommand, startChild } from '@quiesce/test-support';

const fixture = fixturesBeside(import.meta.url);
afterAll(() => killAllChildren());

const VARIABLES = 'LISTEN_FDS,LISTEN_PID,LISTEN_FDNAMES,QUIESCE_READY_FD,QUIESCE_SUPERVISOR_PID,QUIESCE_CONTROL_FD';
const describeOnDeno = describe.skipIf(!isUnderTest('deno'));

/** The probe on Deno with exactly `flags` as its permissions, never a prompt. */
function probeCommand(flags: readonly string[]): RuntimeCommand {
  return runtimeCommand('deno', fixture('env-probe.mjs'), [], { denoPermissions: ['--no-prompt', ...flags] });
}

/** The probe's parsed `probe {…}` line, or `undefined` if it printed none. */
function probeLine(stdout: readonly string[]) {
  const line = stdout.find((l) => l.startsWith('probe '));
  return line ? JSON.parse(line.slice('probe '.length)) : undefined;
}

/** Runs the probe on Deno with exactly `flags` (never a prompt) to its exit; its status, stderr lines and parsed line. */
async function probeOnDeno(flags: readonly string[], env: Record<string, string> = {}) {
  const child = startChild(probeCommand(flags), { env });
  const { code } = await child.waitForExit(30_000);
  return { status: code, stderr: child.stderr, probe: probeLine(child.stdout) };
}

describeOnDeno('Deno without env access to the systemd variables', () => {
  it('starts without --allow-env: the variables are skipped with one line naming the flag', async () => {
    const { status, stderr, probe } = await probeOnDeno([], { LISTEN_FDS: '1', LISTEN_PID: '1' });
    expect(stderr).toEqual([]);
    expect(status).toBe(0);
    expect(probe.listeners).toEqual([]);
    expect(probe.ready).toBe(false);
    expect(probe.warnings).toHaveLength(1);
    expect(probe.warnings[0]).toContain('no env access to LISTEN_FDS, LISTEN_PID, LISTEN_FDNAMES, QUIESCE_READY_FD, QUIESCE_SUPERVISOR_PID, QUIESCE_CONTROL_FD');
    expect(probe.warnings[0]).toContain(`--allow-env=${VARIABLES}`);
  });

  it('reads exactly the variables --allow-env grants, and skips the others', async () => {
    // LISTEN_PID of another process is read (and refused as not ours): the permitted variables are read.
    const { status, probe } = await probeOnDeno(['--allow-env=LISTEN_FDS,LISTEN_PID'], { LISTEN_FDS: '1', LISTEN_PID: '1' });
    expect(status).toBe(0);
    expect(probe.warnings).toHaveLength(2);
    expect(probe.warnings[0]).toContain('no env access to LISTEN_FDNAMES, QUIESCE_READY_FD, QUIESCE_SUPERVISOR_PID, QUIESCE_CONTROL_FD');
    expect(probe.warnings[1]).toMatch(/LISTEN_PID=1 is not this process/);
  });

  it('says nothing with the documented --allow-env and no inherited sockets', async () => {
    const { status, probe } = await probeOnDeno([`--allow-env=${VARIABLES}`]);
    expect(status).toBe(0);
    expect(probe).toEqual({ listeners: [], ready: false, warnings: [] });
  });
});

describeOnDeno('Deno with the documented --allow-env and no --allow-read', () => {
  it('adopts an inherited listening socket without reading /proc (listen() judges the fd)', async () => {
    const socket = await listeningSocket();
    try {
      const deno = probeCommand([`--allow-env=${VARIABLES}`]);
      const child = startChild([...LISTEN_PID_WRAPPER, deno.command, ...deno.args], {
        env: { ...deno.env, LISTEN_FDS: '1', LISTEN_FDNAMES: 'http' },
        extraStdio: [socket.fd],
      });
      const exit = await child.waitForExit(30_000);
      expect(child.stderr).toEqual([]);
      expect(exit.code).toBe(0);
      expect(probeLine(child.stdout)).toEqual({ listeners: [{ fd: 3, name: 'http' }], ready: false, warnings: [] });
    } finally {
      socket.server.close();
    }
  });
});
