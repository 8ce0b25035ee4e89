import type { Clock, TimerHandle } from '@quiesce/core';
import { CONFIRM_MS } from './internal/confirm-delay.ts';

/** What {@link ResponseGate.hold} observed before it resolved. */
export interface HoldResult {
  /** How long responses were held, in ms. */
  readonly heldMs: number;
  /** `true`: no request started for the quiet time; `false`: `maxMs` passed first, or the gate was released. */
  readonly quiet: boolean;
}

/**
 * Holds finished responses while the adapter closes the listener.
 *
 * Bun's `stop(false)` and Deno's `shutdown()` close the listener *and* every idle keep-alive socket
 * in one step. A client that is about to reuse such a socket loses its request, and a client that
 * got `Connection: close` a moment earlier reconnects into a listener that is about to close (the
 * kernel then resets it). While the gate holds, no response goes out, so no client is between two
 * requests; once no request has started for the quiet time, every active client is waiting on a
 * busy socket and every idle socket has been idle at least that long. Then the listener can close.
 *
 * @example
 * ```ts
 * const gate = new ResponseGate(systemClock);
 * // in the request path: gate.arrived(); if (gate.held) await gate.held; then send the response
 * await gate.hold(250, 1_000); // quiet for 250 ms (or 1 s passed)
 * listener.close();
 * gate.release();
 * ```
 */
export class ResponseGate {
  readonly #clock: Clock;
  /** When a response last went out or, from the first hold on, a request last started. */
  #lastActivity = Number.NEGATIVE_INFINITY;
  /** From the first hold (or release) on, request starts are timed too. */
  #holding = false;
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #settle: ((quiet: boolean) => void) | undefined;
  /** The pending hold's next look, for {@link ResponseGate.wake}. */
  #check: (() => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Records that a request started: from the first {@link ResponseGate.hold} on, the quiet time
   * restarts (a client came back). Before it this costs nothing, not even a clock reading
   * (`performance.now()` is 45 ns on Bun and 100–120 ns on Deno on a 2-core box): a request that
   * started before the hold either was answered before it, and its response's departure is later
   * than its start, or is still in flight, and its client waits for an answer, not between two
   * requests; that answer's departure is timed when it goes.
   */
  arrived(): void {
    if (this.#holding) this.#lastActivity = this.#clock.now();
  }

  /**
   * Records that a response went out (the quiet time restarts): its client may be about to send its
   * next request on that socket, or to reconnect.
   */
  departed(): void {
    this.#lastActivity = this.#clock.now();
  }

  /** While holding: the promise a response waits for before it is handed to the runtime. */
  get held(): Promise<void> | undefined {
    return this.#held;
  }

  /**
   * Starts holding responses and resolves once no request has started and no response has gone out
   * for `quietMs`, or after `maxMs`, or when {@link ResponseGate.release} is called. Quiet is
   * confirmed at a second look 1 ms after the first that found it (so an idle server's hold lasts
   * about 1 ms): after a stall of the event loop (GC, CPU starvation, SIGSTOP) the requests that came
   * meanwhile wait unread until the runtime polls its sockets, and the stall must not pass for quiet.
   * When `signal` (the deadline) aborts, the hold ends at once, not quiet. Responses stay held
   * until {@link ResponseGate.release}. With `busy`, the server is quiet only while `busy()` is
   * false too (e.g. while no handler runs); call {@link ResponseGate.wake} when it may have turned
   * false.
   */
  hold(quietMs: number, maxMs: number, signal?: AbortSignal, busy?: () => boolean): Promise<HoldResult> {
    const clock = this.#clock;
    const start = clock.now();
    this.#holding = true;
    if (!this.#held) this.#held = new Promise<void>((resolve) => (this.#release = resolve));
    if (signal?.aborted) return Promise.resolve({ heldMs: 0, quiet: false });
    return new Promise<HoldResult>((resolve) => {
      const done = (quiet: boolean): void => {
        if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#settle = undefined;
        this.#check = undefined;
        signal?.removeEventListener('abort', onDeadline);
        resolve({ heldMs: clock.now() - start, quiet });
      };
      const onDeadline = (): void => done(false);
      signal?.addEventListener('abort', onDeadline, { once: true });
      this.#settle = done;
      /** The previous look found the server quiet; this one confirms it unless activity came between. */
      let seenQuiet = false;
      const check = (): void => {
        this.#timer = undefined;
        const now = clock.now();
        const quietSince = this.#lastActivity;
        const occupied = busy?.() === true;
        const quiet = now - quietSince >= quietMs && !occupied;
        if ((quiet && seenQuiet) || now - start >= maxMs) {
          done(quiet);
          return;
        }
        seenQuiet = quiet;
        // Confirm a quiet look after the runtime's next poll of its sockets; else sleep until the
        // earliest moment either condition can hold (arrivals only push it later; while busy, a
        // wake() brings the next look forward).
        const due = quiet ? now + CONFIRM_MS : occupied ? start + maxMs : Math.min(quietSince + quietMs, start + maxMs);
        this.#timer = clock.setTimeout(check, Math.max(CONFIRM_MS, Math.ceil(due - now)));
      };
      this.#check = check;
      check();
    });
  }

  /** Makes a pending {@link ResponseGate.hold} look again soon (after `CONFIRM_MS`): its `busy()` may have turned false. */
  wake(): void {
    const check = this.#check;
    if (check === undefined || this.#timer === undefined) return;
    this.#clock.clearTimeout(this.#timer);
    this.#timer = this.#clock.setTimeout(check, CONFIRM_MS);
  }

  /** Lets every held response go, now and from now on; ends a pending {@link ResponseGate.hold}. Idempotent. */
  release(): void {
    this.#holding = true;
    this.#settle?.(false);
    this.#release?.();
    this.#release = undefined;
    this.#held = undefined;
  }
}
