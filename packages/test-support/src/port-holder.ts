import { type Child, startChild } from './child.ts';
import { fixturesBeside } from './fixtures.ts';
import { runtimeCommand } from './runtimes.ts';
import { checkArgs } from './validate.ts';

const fixture = fixturesBeside(import.meta.url);

/** Options for {@link startPortHolder}. */
export interface PortHolderOptions {
  /** Arguments on the holder's command line after its script; it does not read them. Default none. */
  readonly args?: readonly string[];
}

/** A child process that holds a listening TCP port; see {@link startPortHolder}. */
export interface PortHolder {
  readonly child: Child;
  readonly pid: number;
  /** The port it listens on, on 127.0.0.1. */
  readonly port: number;
}

/**
 * Starts a process that holds a free port on 127.0.0.1 and does nothing else, for tests of what a
 * port's holder looks like from outside (`/proc`, a port diagnosis): a direct child of this process
 * on the Node under test, that never reads nor closes what clients send (their bytes stay in its
 * receive queue; a peer that closes leaves CLOSE_WAIT) and never exits on its own. `args` stand on
 * its command line. Resolves once it listens; rejects with `LineTimeoutError` if it has not within
 * 15 s; throws `HarnessOptionError` for bad `args`. `killAllChildren()` (or `child.stop()`) ends it.
 *
 * @example
 * ```ts
 * const holder = await startPortHolder({ args: ['--token=secret'] });
 * const diagnosis = await diagnosePort(holder.port);
 * expect(diagnosis.holders[0]).toMatchObject({ pid: holder.pid, ppid: process.pid });
 * ```
 */
export async function startPortHolder(options: PortHolderOptions = {}): Promise<PortHolder> {
  const args = checkArgs('args', options.args ?? []);
  const child = startChild(runtimeCommand('node', fixture('port-holder.mjs'), args), { name: 'port holder' });
  const line = await child.waitForLine(/^port \d+$/);
  return { child, pid: child.pid, port: Number(line.slice('port '.length)) };
}
