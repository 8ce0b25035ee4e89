import { mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { type Server, type Socket, connect, createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import {
  fixturesBeside,
  freePort,
  killAllChildren,
  listeningSocket,
  processState,
  runtimeBinary,
  runtimeCommand,
  startChild,
  startPortHolder,
  until,
} from '@quiesce/test-support';
import { acquire } from './acquire.ts';
import { AddressInUseError, ListenerOptionError } from './errors.ts';
import { diagnosePort, formatPortDiagnosis } from './port-diagnosis.ts';

const fixture = fixturesBeside(import.meta.url);

const servers: Server[] = [];
const extraPids = new Set<number>();
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.listening) await new Promise((resolve) => server.close(resolve));
  await killAllChildren(extraPids);
  extraPids.clear();
});
afterAll(() => killAllChildren());

describe('diagnosePort', () => {
  it('finds the listener, its holder (pid, command line) and the advice to stop it', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const diagnosis = await diagnosePort(holder.port);
    expect(diagnosis).toMatchObject({ port: holder.port, supported: true, listening: true, unattributed: 0, states: { LISTEN: 1 } });
    expect(diagnosis.sockets[0]).toMatchObject({ state: 'LISTEN', family: 'IPv4', localAddress: '127.0.0.1', localPort: holder.port });
    expect(diagnosis.sockets[0]!.inode).toBeGreaterThan(0);
    expect(diagnosis.holders).toEqual([
      expect.objectContaining({ pid: process.pid, command: expect.stringContaining(process.argv0.split('/').pop()!), state: expect.stringMatching(/^(running|sleeping)$/), ppid: process.ppid, orphan: false, unreadable: [] }),
    ]);
    expect(diagnosis.holders[0]!.ageMs).toBeGreaterThanOrEqual(0);
    expect(diagnosis.summary).toMatch(new RegExp(`^Held by pid ${process.pid} \\(.+\\) in LISTEN\\.`));
    expect(diagnosis.advice[0]).toMatch(new RegExp(`kill ${process.pid}`));
  });

  it('says a port is free when no socket uses it', async () => {
    const port = await freePort();
    const diagnosis = await diagnosePort(port);
    expect(diagnosis).toMatchObject({ supported: true, listening: false, sockets: [], holders: [] });
    expect(formatPortDiagnosis(diagnosis)).toMatch(new RegExp(`^port ${port}: free`));
  });

  it('says what it cannot know where there is no /proc/net/tcp', async () => {
    const diagnosis = await diagnosePort(3000, { procRoot: '/nonexistent-proc' });
    expect(diagnosis.supported).toBe(false);
    expect(diagnosis.summary).toContain('lsof -nP -iTCP:3000');
    expect(formatPortDiagnosis(diagnosis)).toMatch(/^port 3000: unknown/);
  });

  it.each([[0], [-1], [65_536], [1.5], ['80']])('refuses port %j', async (port) => {
    await expect(diagnosePort(port as number)).rejects.toBeInstanceOf(ListenerOptionError);
  });

  it('refuses a bad procRoot', async () => {
    await expect(diagnosePort(3000, { procRoot: '' })).rejects.toMatchObject({ option: 'procRoot' });
  });
});

describe('formatPortDiagnosis', () => {
  it('prints a headline, the holder, one line per socket and the advice', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const text = formatPortDiagnosis(await diagnosePort(holder.port));
    const lines = text.trimEnd().split('\n');
    expect(lines[0]).toBe(`port ${holder.port}: in use (LISTEN 1)`);
    expect(lines[1]).toMatch(new RegExp(`^  held by pid ${process.pid}: `));
    expect(text).toMatch(new RegExp(`    LISTEN +127\\.0\\.0\\.1:${holder.port}  \\[pid ${process.pid}\\]`));
    expect(text).toContain('  advice:\n    - LISTEN: pid');
  });
});

describe('why a holder will not let go, read from /proc (real processes)', () => {
  it('a SIGSTOPped holder: says it is stopped and that it needs kill -CONT (or fg) before kill, or kill -9', async () => {
    const { pid, port } = await startPortHolder();
    process.kill(pid, 'SIGSTOP');
    try {
      await until(() => processState(pid) === 'T', 10_000, 'the holder to stop');
      const diagnosis = await diagnosePort(port);
      expect(diagnosis.holders).toEqual([expect.objectContaining({ pid, state: 'stopped', ppid: process.pid, orphan: false })]);
      expect(diagnosis.summary).toContain(`pid ${pid} is stopped (SIGSTOP or Ctrl-Z): \`kill ${pid}\` does nothing until it is continued.`);
      expect(diagnosis.summary).toContain(`\`kill -CONT ${pid}\` (or \`fg\` in the shell that stopped it) and then \`kill ${pid}\`, or \`kill -9 ${pid}\` at once`);
      expect(diagnosis.advice.join('\n')).toContain(`continue it first (\`kill -CONT ${pid}\`, or \`fg\` in the shell that stopped it) and then \`kill ${pid}\`, or end it at once with \`kill -9 ${pid}\``);

      // The same through the command line and the EADDRINUSE error.
      const cli = startChild(runtimeCommand('node', fixture('run-cli.mjs'), ['port', String(port)]));
      expect((await cli.exited).code).toBe(1);
      expect(cli.stdout.join('\n')).toContain('stopped (T: SIGSTOP, or Ctrl-Z in its terminal)');
      expect(cli.stdout.join('\n')).toContain(`\`kill -CONT ${pid}\``);
      const error = await acquire(createServer(), { port, host: '127.0.0.1' }).catch((e: unknown) => e);
      expect(error).toBeInstanceOf(AddressInUseError);
      expect((error as Error).message).toContain(`pid ${pid} is stopped`);
      expect((error as Error).message).toContain(`\`kill -9 ${pid}\``);
    } finally {
      process.kill(pid, 'SIGCONT');
    }
  });

  it('an orphan that inherited the listening socket from a parent that exited: its parent, orphan status and the inheritance', async () => {
    // The parent binds, hands the socket to `sleep` as fd 3 (as a child that is not closed on exec
    // gets it), and exits: `sleep` holds the port, adopted by pid 1.
    const parent = startChild([
      runtimeBinary('node'),
      '-e',
      `const server = require('net').createServer().listen(0, '127.0.0.1', () => {
        const child = require('child_process').spawn('sleep', ['600'], { stdio: ['ignore', 'ignore', 'ignore', server._handle.fd] });
        console.log('orphan ' + child.pid + ' port ' + server.address().port);
        child.unref();
        process.exit(0);
      });`,
    ]);
    const [, orphan, port] = /^orphan (\d+) port (\d+)$/.exec(await parent.waitForLine(/^orphan /))!.map(Number);
    extraPids.add(orphan!);
    await parent.exited;
    const diagnosis = await diagnosePort(port!);
    const holder = diagnosis.holders.find((h) => h.pid === orphan)!;
    expect(holder).toMatchObject({ command: 'sleep 600', orphan: true, inheritedSocket: true, state: 'sleeping' });
    expect(holder.ppid).not.toBe(parent.pid);
    expect(diagnosis.summary).toContain(`pid ${orphan} is an orphan that most likely inherited the socket from its exited parent.`);
    expect(diagnosis.advice.join('\n')).toContain(`pid ${orphan} (sleep 600) is an orphan: the process that started it has exited and pid ${holder.ppid}`);
    expect(formatPortDiagnosis(diagnosis)).toContain('an orphan: the process that started it has exited; holds the socket without close-on-exec (inherited)');
  });

  it('CLOSE_WAIT with unread data: Recv-Q counts the bytes (and the unread FIN) and the advice says the process stopped reading', async () => {
    const { pid, port } = await startPortHolder();
    const sockets: Socket[] = [];
    try {
      for (let i = 0; i < 2; i++) {
        const socket = connect(port, '127.0.0.1');
        sockets.push(socket);
        await new Promise<void>((resolve) => socket.once('connect', resolve));
        socket.end('x'.repeat(1_000));
      }
      await until(
        async () => (await diagnosePort(port)).sockets.filter((s) => s.state === 'CLOSE_WAIT' && s.receiveQueue === 1_001).length === 2,
        10_000,
        'two CLOSE_WAIT sockets with 1000 unread bytes and the FIN each',
      );
      const diagnosis = await diagnosePort(port);
      expect(diagnosis.sockets.filter((s) => s.state === 'CLOSE_WAIT').map((s) => s.holders.map((h) => h.pid))).toEqual([[pid], [pid]]);
      expect(diagnosis.advice.join('\n')).toContain(
        `CLOSE_WAIT: 2 connection(s) the peer closed but pid ${pid} (${diagnosis.holders[0]!.command}) never closed. 2 of them have data the process has not read (Recv-Q 2002 in all, the peer's FIN counting as 1): it stopped reading those connections`,
      );
      expect(formatPortDiagnosis(diagnosis)).toMatch(/CLOSE_WAIT +127\.0\.0\.1:\d+ +<- 127\.0\.0\.1:\d+ +\[pid \d+\] {2}recv-q 1001 send-q 0/);
    } finally {
      for (const socket of sockets) socket.destroy();
    }
  });
});

describe('why a holder will not let go, from a procfs tree (states a test cannot make safely)', () => {
  const roots: string[] = [];
  afterAll(() => {
    for (const root of roots) rmSync(root, { recursive: true, force: true });
  });

  /** A procfs tree with one LISTEN socket and one FIN_WAIT1 socket with unacknowledged data on port 3000, held by pid 4242. */
  function procTree(stat: string | undefined, status = 'TracerPid:\t0\n'): string {
    const root = mkdtempSync(join(tmpdir(), 'quiesce-proc-'));
    roots.push(root);
    mkdirSync(join(root, 'net'));
    writeFileSync(
      join(root, 'net/tcp'),
      [
        '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
        '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 111 1 0',
        '   1: 0100007F:0BB8 0100007F:C350 04 00000800:00000000 01:00000020 00000000  1000        0 222 1 0',
      ].join('\n'),
    );
    writeFileSync(join(root, 'uptime'), '1000.00 2000.00\n');
    mkdirSync(join(root, '4242/fd'), { recursive: true });
    mkdirSync(join(root, '4242/fdinfo'));
    symlinkSync('socket:[111]', join(root, '4242/fd/3'));
    symlinkSync('socket:[222]', join(root, '4242/fd/4'));
    writeFileSync(join(root, '4242/fdinfo/3'), 'pos:\t0\nflags:\t02000002\n');
    writeFileSync(join(root, '4242/fdinfo/4'), 'pos:\t0\nflags:\t02000002\n');
    writeFileSync(join(root, '4242/cmdline'), 'node\0server.js\0');
    if (stat !== undefined) writeFileSync(join(root, '4242/stat'), stat);
    writeFileSync(join(root, '4242/status'), status);
    mkdirSync(join(root, '77'));
    writeFileSync(join(root, '77/cmdline'), 'bash\0');
    writeFileSync(join(root, '77/comm'), 'bash\n');
    return root;
  }
  // starttime 40000 ticks = 400 s after boot; uptime 1000 s: it has run for 600 s.
  const stat = (state: string): string => `4242 (node server) ${state} 77 4242 77 0 -1 0 0 0 0 0 0 0 0 0 20 0 1 0 40000 0 0`;

  it.each([
    ['Z', 'zombie', 'pid 4242 is a zombie that its parent pid 77 has not reaped.', 'its parent pid 77 (bash) must reap it (wait())'],
    ['D', 'disk-sleep', 'pid 4242 is in uninterruptible sleep (D).', 'every signal waits until that returns'],
  ])('state %s: %s, and what to do', async (letter, state, summary, advice) => {
    const diagnosis = await diagnosePort(3000, { procRoot: procTree(stat(letter)) });
    expect(diagnosis.holders).toEqual([
      { pid: 4242, command: 'node server.js', state, ppid: 77, parentCommand: 'bash', orphan: false, ageMs: 600_000, tracerPid: undefined, inheritedSocket: false, unreadable: [] },
    ]);
    expect(diagnosis.summary).toContain(summary);
    expect(diagnosis.advice.join('\n')).toContain(advice);
    expect(formatPortDiagnosis(diagnosis)).toContain('parent pid 77 (bash); running for 10 min');
  });

  it('a process stopped by a debugger names the debugger', async () => {
    const diagnosis = await diagnosePort(3000, { procRoot: procTree(stat('t'), 'TracerPid:\t999\n') });
    expect(diagnosis.holders[0]).toMatchObject({ state: 'tracing-stop', tracerPid: 999 });
    expect(diagnosis.summary).toContain('Stop it (detach the debugger (pid 999), or `kill -9 4242`)');
  });

  it('FIN_WAIT1 with unacknowledged data: Send-Q counts the bytes and what it means', async () => {
    const diagnosis = await diagnosePort(3000, { procRoot: procTree(stat('S')) });
    expect(diagnosis.sockets.find((s) => s.state === 'FIN_WAIT1')).toMatchObject({ sendQueue: 2048, receiveQueue: 0 });
    expect(diagnosis.advice.join('\n')).toContain("1 of them still have 2048 byte(s) the peer has not acknowledged (Send-Q): the peer is not reading or is unreachable");
  });

  it('says what it could not read instead of guessing', async () => {
    const diagnosis = await diagnosePort(3000, { procRoot: procTree(undefined) });
    const root = diagnosis.holders[0]!.unreadable[0]!.replace(/\/4242\/stat \(ENOENT\)$/, '');
    expect(diagnosis.holders[0]).toMatchObject({ state: undefined, ppid: undefined, orphan: undefined, ageMs: undefined, unreadable: [`${root}/4242/stat (ENOENT)`] });
    const text = formatPortDiagnosis(diagnosis);
    expect(text).toContain('state unknown (unreadable); parent unknown (unreadable); age unknown (unreadable)');
    expect(text).toContain(`cannot read ${root}/4242/stat (ENOENT)`);
  });
});
