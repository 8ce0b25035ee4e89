import type { Clock } from '@quiesce/core';
import type { DenoNetAddr, DenoUnixAddr } from '../deno-types.ts';
import type { DenoRuntime } from './deno-runtime.ts';

/** How {@link listenerClosed} knew: a connect was refused, it never was within the bound, or it could not check. */
export type ListenerClosedResult = 'refused' | 'still-open' | 'unchecked';

const UNCHECKED_WAIT_MS = 10;

/**
 * Resolves once Deno has really closed its listening socket: a connection to its own address is
 * refused. `shutdown()` cancels Deno's accept loop inside an async op, so for a moment after the
 * call the kernel still queues new connections, and resets them when the socket closes (measured:
 * a connect right after the call was reset 3 times in 3; after one macrotask, 1 time in 200).
 * Held responses must not go out before that, or their clients reconnect into the closing listener
 * and lose the next request. The check connects only with net permission already granted (queried
 * without a prompt); otherwise, and for transports it cannot reach, it waits a fixed 10 ms.
 */
export async function listenerClosed(
  deno: DenoRuntime,
  addr: DenoNetAddr | DenoUnixAddr,
  clock: Clock,
  maxMs: number,
): Promise<ListenerClosedResult> {
  const sleep = (ms: number): Promise<void> => new Promise((resolve) => clock.setTimeout(resolve, ms));
  const target = probeTarget(deno, addr);
  if (!target) {
    await sleep(UNCHECKED_WAIT_MS);
    return 'unchecked';
  }
  const start = clock.now();
  do {
    await sleep(1);
    try {
      (await deno.connect(target)).close();
    } catch (error) {
      const name = (error as { name?: unknown } | null)?.name;
      if (name === 'ConnectionRefused' || name === 'NotFound') return 'refused';
      await sleep(UNCHECKED_WAIT_MS);
      return 'unchecked';
    }
  } while (clock.now() - start < maxMs);
  return 'still-open';
}

function probeTarget(deno: DenoRuntime, addr: DenoNetAddr | DenoUnixAddr): Parameters<DenoRuntime['connect']>[0] | undefined {
  const granted = (descriptor: Parameters<NonNullable<NonNullable<DenoRuntime['permissions']>['querySync']>>[0]): boolean => {
    try {
      return deno.permissions?.querySync?.(descriptor).state === 'granted';
    } catch {
      return false;
    }
  };
  if (addr.transport === 'tcp') {
    // A wildcard listener is reached over loopback.
    const hostname = addr.hostname === '0.0.0.0' ? '127.0.0.1' : addr.hostname === '::' ? '::1' : addr.hostname;
    const host = hostname.includes(':') ? `[${hostname}]:${addr.port}` : `${hostname}:${addr.port}`;
    return granted({ name: 'net', host }) ? { hostname, port: addr.port } : undefined;
  }
  if (addr.transport === 'unix') {
    const { path } = addr;
    return granted({ name: 'read', path }) && granted({ name: 'write', path }) ? { transport: 'unix', path } : undefined;
  }
  return undefined;
}
