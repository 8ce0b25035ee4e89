import { once } from 'node:events';
import { readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { killAllChildren } from './child.ts';
import { HarnessOptionError } from './errors.ts';
import { startPortHolder } from './port-holder.ts';
import { childPids, processState } from './processes.ts';
import { nodeUnderTest } from './runtimes.ts';

afterEach(() => killAllChildren());

describe('startPortHolder', () => {
  it('starts a direct child on the Node under test that listens on 127.0.0.1, with the given arguments on its command line', async () => {
    const holder = await startPortHolder({ args: ['--password=x', 'https://u:p@example.com/'] });
    expect(holder.pid).toBe(holder.child.pid);
    expect(childPids(process.pid)).toContain(holder.pid);
    const argv = readFileSync(`/proc/${holder.pid}/cmdline`, 'utf8').split('\0').slice(0, -1);
    expect(argv[0]).toBe(nodeUnderTest().binary);
    expect(argv.slice(2)).toEqual(['--password=x', 'https://u:p@example.com/']);
    const socket = connect(holder.port, '127.0.0.1');
    await once(socket, 'connect');
    socket.destroy();
    await holder.child.stop();
    expect(processState(holder.pid)).toBeUndefined();
  });

  it('refuses arguments that are not an array of strings', async () => {
    await expect(startPortHolder({ args: '--x' as never })).rejects.toBeInstanceOf(HarnessOptionError);
    await expect(startPortHolder({ args: [1] as never })).rejects.toThrow(/Invalid args/);
  });
});
