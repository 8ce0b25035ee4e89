import { type AddressInfo, type Socket, connect, createServer } from 'node:net';
import { systemClock } from '@quiesce/core';
import { ManualClock } from '@quiesce/core/testing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { afterIo } from './after-io.ts';
import { CONFIRM_MS } from './confirm-delay.ts';

describe('afterIo', () => {
  it('on a test clock waits CONFIRM_MS, and cancel() keeps it from running', async () => {
    const clock = new ManualClock();
    const calls: string[] = [];
    afterIo(clock, () => calls.push('ran'));
    afterIo(clock, () => calls.push('cancelled')).cancel();
    await clock.advance(CONFIRM_MS - 0.5);
    expect(calls).toEqual([]);
    await clock.advance(0.5);
    expect(calls).toEqual(['ran']);
    expect(clock.pendingTimers).toBe(0);
  });

  // Also passes under `bun test` (Bun 1.4), the other runtime that takes the setImmediate path.
  describe('with the system clock (real sockets)', () => {
    const server = createServer();
    let received = 0;
    let client: Socket;
    beforeAll(async () => {
      server.on('connection', (socket) => socket.on('data', (chunk) => (received += chunk.length)));
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
      client = connect((server.address() as AddressInfo).port, '127.0.0.1');
      await new Promise((resolve) => client.once('connect', resolve));
    });
    afterAll(async () => {
      client.destroy();
      await new Promise((resolve) => server.close(resolve));
    });

    /** From inside `from`, writes a byte while the event loop is held up, then waits afterIo: was it read first? */
    const readFirst = (from: (start: () => void) => void) =>
      new Promise<boolean>((resolve) => {
        from(() => {
          const before = received;
          client.write('x');
          // The event loop is held up: the byte waits unread in the kernel (a bounded busy wait).
          const until = performance.now() + 20;
          while (performance.now() < until) {}
          afterIo(systemClock, () => resolve(received > before));
        });
      });

    it.each([
      ['a timer', (start: () => void) => setTimeout(start, 1)],
      ['an immediate', (start: () => void) => setImmediate(start)],
      ['a microtask', (start: () => void) => queueMicrotask(start)],
      [
        'an I/O callback',
        (start: () => void) => {
          const other = connect((server.address() as AddressInfo).port, '127.0.0.1', () => {
            other.destroy();
            start();
          });
        },
      ],
    ])('runs only after the runtime has read what arrived while the loop was held up, called from %s', async (_, from) => {
      expect(await readFirst(from)).toBe(true);
    });
  });
});
