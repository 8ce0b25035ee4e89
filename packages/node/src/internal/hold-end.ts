import type { ServerResponse } from 'node:http';
import type { ResponseGate } from '@quiesce/drain';

const held: unique symbol = Symbol('quiesce.holdEnd');

/**
 * Defers `res.end()` while the gate holds. Until its end, a response is not complete for the
 * client, which therefore neither sends its next request nor reconnects. (Corking the socket does
 * not work: `OutgoingMessage#end` fully uncorks it.) Applied once per response; later calls do nothing.
 */
export function holdEndWhileGated(res: ServerResponse, gate: ResponseGate): void {
  const marked = res as ServerResponse & { [held]?: true };
  if (marked[held]) return;
  marked[held] = true;
  const end = res.end as (...args: unknown[]) => ServerResponse;
  res.end = function (this: ServerResponse, ...args: unknown[]): ServerResponse {
    const hold = gate.held;
    if (hold === undefined) return end.apply(this, args);
    void hold.then(() => end.apply(this, args));
    return this;
  } as ServerResponse['end'];
}
