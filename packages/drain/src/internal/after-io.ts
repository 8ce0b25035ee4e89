import { type Clock, systemClock } from '@quiesce/core';
import { CONFIRM_MS } from './confirm-delay.ts';

/** A pending {@link afterIo} call; `cancel()` keeps it from running. */
export interface IoWait {
  cancel(): void;
}

type Immediate = (fn: () => void) => unknown;
type ClearImmediate = (handle: unknown) => void;

/**
 * Calls `fn` once the runtime has polled its sockets at least once since this call, so that what
 * arrived while the event loop was held up (GC, CPU starvation, SIGSTOP) has been read by then.
 *
 * With the system clock on Node and Bun: two `setImmediate` turns, about 10 µs. An immediate queued
 * while immediates run waits for the next turn of the loop, and every turn polls I/O first (checked
 * on Node 20 and Bun 1.4 from timer, immediate, I/O and microtask callbacks). Deno runs immediates
 * without polling I/O in between, and a test clock has only timers: there, {@link CONFIRM_MS} on the
 * clock (a timer turn polls I/O on every runtime), about 1 ms on Node and Bun, 2 ms on Deno.
 */
export function afterIo(clock: Clock, fn: () => void): IoWait {
  const g = globalThis as { setImmediate?: Immediate; clearImmediate?: ClearImmediate; Deno?: unknown };
  if (clock === systemClock && typeof g.setImmediate === 'function' && typeof g.clearImmediate === 'function' && g.Deno === undefined) {
    const setImmediate = g.setImmediate;
    const clearImmediate = g.clearImmediate;
    let handle = setImmediate(() => {
      handle = setImmediate(fn);
    });
    return { cancel: () => clearImmediate(handle) };
  }
  const timer = clock.setTimeout(fn, CONFIRM_MS);
  return { cancel: () => clock.clearTimeout(timer) };
}
