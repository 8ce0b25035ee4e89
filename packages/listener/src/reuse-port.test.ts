// reusePort is the one Node-version-gated path of @quiesce/listener: Node 22.12 / 23.1 added
// listen({ reusePort }) and earlier Node ignores it silently, so acquire() refuses it there. Each side
// runs on the lines that have it (`npm run test:node-lines`: 22, 24, 26) or lack it (Node 20).
import { createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fixturesBeside, get, killAllChildren, nodeCapabilities, startChild } from '@quiesce/test-support';
import { acquire } from './acquire.ts';
import { ReusePortUnsupportedError } from './errors.ts';

const fixture = fixturesBeside(import.meta.url);
const node = process.versions.node;
const reusePort = nodeCapabilities(node).reusePort;
afterEach(() => killAllChildren());

interface Acquired {
  pid: number;
  listener: { source: string; port: number };
}
const acquiredLine = (line: string): Acquired => JSON.parse(line.slice('acquired '.length)) as Acquired;

/** adopt-server.mjs with acquire({ reusePort: true }) on `port`. */
async function reusePortServer(port: number): Promise<Acquired> {
  const child = startChild([process.execPath, fixture('adopt-server.mjs')], { env: { PORT: String(port), REUSE_PORT: '1' } });
  const line = await child.waitForLine(/^(acquired|failed) /);
  if (!line.startsWith('acquired ')) throw new Error(`acquire failed in pid ${child.pid}: ${line}`);
  return acquiredLine(line);
}

describe(`reusePort on Node ${node}`, () => {
  it.runIf(reusePort)(
    `two processes that acquire the same port with reusePort both bind it, and the kernel spreads new connections over both (Node ≥ 22.12${reusePort ? '' : `; skipped on Node ${node}, which has no reusePort`})`,
    async () => {
      const first = await reusePortServer(0);
      expect(first.listener.source).toBe('bound');
      const second = await reusePortServer(first.listener.port);
      expect(second.listener).toMatchObject({ source: 'bound', port: first.listener.port });
      // Fresh connections hash over both listeners; 200 in a row on one of them would be a 2^-199 fluke.
      const seen = new Set<number>();
      for (let i = 0; i < 200 && seen.size < 2; i++) seen.add((await get(first.listener.port)).pid);
      expect([...seen].sort()).toEqual([first.pid, second.pid].sort());
    },
  );

  it.runIf(!reusePort)(
    `refuses reusePort, which Node before 22.12 would ignore silently, naming the version and the fix${reusePort ? ` (skipped on Node ${node}, which has reusePort)` : ''}`,
    async () => {
      const server = createServer();
      const error = await acquire(server, { port: 0, host: '127.0.0.1', reusePort: true, env: {}, warn: false }).catch((e: unknown) => e);
      expect(server.listening).toBe(false);
      expect(error).toBeInstanceOf(ReusePortUnsupportedError);
      expect((error as ReusePortUnsupportedError).code).toBe('QUIESCE_REUSEPORT_UNSUPPORTED');
      expect((error as Error).message).toMatch(new RegExp(`Node ${node.replace(/\./g, '\\.')}.*22\\.12`));
    },
  );

  it('under quiesce run, a generation that asks for reusePort adopts the inherited socket: reusePort only applies when binding', async () => {
    const sup = startChild([process.execPath, fixture('run-cli.mjs'), 'run', '--listen', '127.0.0.1:0', '--', process.execPath, fixture('adopt-server.mjs')], {
      env: { REUSE_PORT: '1' },
    });
    const port = Number(/:(\d+) \(fd 3/.exec(await sup.waitForLine(/quiesce run: listening on http:\/\/127\.0\.0\.1:\d+/))?.[1]);
    const line = await sup.waitForLine(/^(acquired|failed) /);
    expect(line).toMatch(/^acquired /);
    const generation = acquiredLine(line);
    expect(generation.listener).toMatchObject({ source: 'inherited', port });
    await sup.waitForLine(/generation 1 \(pid \d+\) ready/);
    expect((await get(port)).pid).toBe(generation.pid);
    sup.kill('SIGTERM');
    expect((await sup.exited).code).toBe(0);
  });
});
