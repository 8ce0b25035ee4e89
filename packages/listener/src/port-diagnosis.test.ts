import { type Server, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { listeningSocket } from '@quiesce/test-support';
import { ListenerOptionError } from './errors.ts';
import { diagnosePort, formatPortDiagnosis } from './port-diagnosis.ts';

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.listening) await new Promise((resolve) => server.close(resolve));
});

/** A port nothing uses right now: bound, then released. */
async function freePort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as { port: number };
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('diagnosePort', () => {
  it('finds the listener, its holder (pid, command line) and the advice to stop it', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const diagnosis = await diagnosePort(holder.port);
    expect(diagnosis).toMatchObject({ port: holder.port, supported: true, listening: true, unattributed: 0, states: { LISTEN: 1 } });
    expect(diagnosis.sockets[0]).toMatchObject({ state: 'LISTEN', family: 'IPv4', localAddress: '127.0.0.1', localPort: holder.port });
    expect(diagnosis.sockets[0]!.inode).toBeGreaterThan(0);
    expect(diagnosis.holders).toEqual([{ pid: process.pid, command: expect.stringContaining(process.argv0.split('/').pop()!) }]);
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
