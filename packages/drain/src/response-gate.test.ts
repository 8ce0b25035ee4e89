import { ManualClock } from '@quiesce/core/testing';
import { describe, expect, it } from 'vitest';
import { ResponseGate } from './response-gate.ts';

describe('ResponseGate', () => {
  it('is open until hold(): nothing waits', () => {
    const gate = new ResponseGate(new ManualClock());
    gate.arrived();
    expect(gate.held).toBeUndefined();
  });

  it('holds responses until no request has started and no response gone out for the quiet time', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.departed(); // a response went out just before the hold: its client is about to come back
    const settled: number[] = [];
    void gate.hold(100, 1_000).then((result) => settled.push(result.heldMs));
    const held = gate.held;
    expect(held).toBeInstanceOf(Promise);
    await clock.advance(60);
    gate.arrived(); // a client that got its answer just before the hold sends its next request
    await clock.advance(100);
    expect(settled).toEqual([]); // quiet since 60, confirmed at the next look
    await clock.advance(1);
    expect(settled).toEqual([161]);
    expect(gate.held).toBe(held); // still held: the adapter releases after closing the listener
    let released = false;
    void held!.then(() => (released = true));
    gate.release();
    await Promise.resolve();
    expect(released).toBe(true);
    expect(gate.held).toBeUndefined();
    expect(clock.pendingTimers).toBe(0);
  });

  it('ends the hold at once, not quiet, when the deadline aborts, and keeps responses held until release', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.departed();
    const deadline = new AbortController();
    const hold = gate.hold(600_000, 600_000, deadline.signal);
    await clock.advance(40);
    deadline.abort();
    await expect(hold).resolves.toEqual({ heldMs: 40, quiet: false });
    expect(gate.held).toBeInstanceOf(Promise);
    expect(clock.pendingTimers).toBe(0);
    await expect(gate.hold(100, 1_000, deadline.signal)).resolves.toEqual({ heldMs: 0, quiet: false });
    gate.release();
    expect(gate.held).toBeUndefined();
  });

  it('gives up at maxMs when requests keep arriving, and reports that it was not quiet', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    let result: { heldMs: number; quiet: boolean } | undefined;
    gate.arrived();
    void gate.hold(100, 300).then((r) => (result = r));
    for (let t = 0; t < 300; t += 50) {
      gate.arrived();
      await clock.advance(50);
    }
    expect(result).toEqual({ heldMs: 300, quiet: false });
  });

  it('resolves at its second look, 1 ms on, when the server has been quiet for the quiet time already (an idle shutdown)', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.arrived();
    await clock.advance(50);
    gate.departed(); // t=50
    await clock.advance(125);
    const idle = gate.hold(100, 1_000);
    const fresh = new ResponseGate(clock).hold(250, 1_000);
    await clock.advance(1);
    await expect(idle).resolves.toEqual({ heldMs: 1, quiet: true });
    await expect(fresh).resolves.toEqual({ heldMs: 1, quiet: true });
  });

  it('does not take a stalled event loop for quiet: a request dispatched right after the stall restarts the quiet time', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.departed(); // t=0
    await clock.advance(300); // the process stalls (GC, CPU starvation, SIGSTOP): no request seen until 300
    let result: { heldMs: number; quiet: boolean } | undefined;
    void gate.hold(100, 1_000).then((r) => (result = r)); // the late lame-duck timer runs first...
    gate.arrived(); // ...then the runtime dispatches a request that waited in the kernel meanwhile
    await clock.advance(1);
    expect(result).toBeUndefined(); // not quiet: closing the listener now would reset its client's next connect
    await clock.advance(99);
    expect(result).toBeUndefined();
    await clock.advance(1);
    expect(result).toEqual({ heldMs: 101, quiet: true });
  });

  it('does not take a stall during the hold for quiet either: a request seen after the look that found quiet keeps it holding', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    let result: { heldMs: number; quiet: boolean } | undefined;
    gate.arrived();
    void gate.hold(100, 1_000).then((r) => (result = r));
    gate.arrived(); // t=0, exact from the hold on
    await clock.advance(100); // the look at 100 finds 100 ms of quiet (a stalled loop looks the same)...
    expect(result).toBeUndefined();
    gate.arrived(); // ...and the runtime's next poll of its sockets dispatches a request that waited
    await clock.advance(1);
    expect(result).toBeUndefined();
    await clock.advance(99);
    expect(result).toBeUndefined(); // quiet again from 100: seen at 200, confirmed at 201
    await clock.advance(1);
    expect(result).toEqual({ heldMs: 201, quiet: true });
  });

  it('waits out the quiet time after the last response, even with no request since', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.departed();
    await clock.advance(20);
    let result: { heldMs: number; quiet: boolean } | undefined;
    void gate.hold(100, 1_000).then((r) => (result = r));
    await clock.advance(10);
    gate.departed(); // an answer in flight at the hold goes out: quiet from t=30
    await clock.advance(100);
    expect(result).toBeUndefined();
    await clock.advance(1);
    expect(result).toEqual({ heldMs: 111, quiet: true });
  });

  it('before the first hold, a request start costs no clock reading and no timer, and its client, waiting for an answer, does not count as activity; the answer does', async () => {
    const clock = new ManualClock();
    const started = new ResponseGate(clock);
    const answered = new ResponseGate(clock);
    await clock.advance(150);
    started.arrived(); // t=150: still in flight at the hold
    answered.departed(); // t=150: its client may be about to come back
    expect(clock.pendingTimers).toBe(0);
    await clock.advance(50);
    const results: Record<string, number> = {};
    void started.hold(100, 1_000).then((r) => (results['started'] = r.heldMs));
    void answered.hold(100, 1_000).then((r) => (results['answered'] = r.heldMs));
    await clock.advance(1);
    expect(results).toEqual({ started: 1 });
    await clock.advance(50);
    expect(results).toEqual({ started: 1, answered: 51 });
  });

  it('resolves at its second look with a quiet time of 0, and release() ends a pending hold (a forced stop)', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    gate.departed();
    const zero = gate.hold(0, 1_000);
    await clock.advance(1);
    await expect(zero).resolves.toEqual({ heldMs: 1, quiet: true });
    const pending = gate.hold(500, 1_000);
    await clock.advance(10);
    gate.release();
    await expect(pending).resolves.toEqual({ heldMs: 10, quiet: false });
    expect(clock.pendingTimers).toBe(0);
  });

  it('with busy(), stays held while it is true (sleeping, no polling) and looks again at wake()', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    let running = 1; // a handler still runs
    let result: { heldMs: number; quiet: boolean } | undefined;
    void gate.hold(100, 5_000, undefined, () => running > 0).then((r) => (result = r));
    await clock.advance(1_000);
    expect(result).toBeUndefined();
    expect(clock.pendingTimers).toBe(1);
    running = 0;
    gate.wake();
    await clock.advance(1); // the look after wake() finds it quiet ...
    expect(result).toBeUndefined();
    await clock.advance(1); // ... and the next confirms it
    expect(result).toEqual({ heldMs: 1_002, quiet: true });
    gate.release();
    expect(clock.pendingTimers).toBe(0);
  });

  it('with busy() true to the end, gives up at maxMs, not quiet', async () => {
    const clock = new ManualClock();
    const gate = new ResponseGate(clock);
    let result: { heldMs: number; quiet: boolean } | undefined;
    void gate.hold(100, 300, undefined, () => true).then((r) => (result = r));
    await clock.advance(300);
    expect(result).toEqual({ heldMs: 300, quiet: false });
    gate.wake(); // nothing pending: no effect
    expect(clock.pendingTimers).toBe(0);
    gate.release();
  });
});
