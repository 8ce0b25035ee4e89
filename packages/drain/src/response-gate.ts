import type { Clock, TimerHandle } from '@quiesce/hooks';

/**
 * Before {@link ResponseGate.hold}, requests and responses are timed in batches of this many ms:
 * one clock reading per batch instead of two per request (`performance.now()` costs 45 ns on Bun and
 * 100–120 ns on Deno here, ~1 % of a hello-world request on Deno).
 */
const BATCH_MS = 25;

/** Delay of the look that confirms quiet: a timer turn, so the runtime polls its sockets between the two. */
const CONFIRM_MS = 1;

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
  /** When a request last started or a response last went out; never earlier than that moment. */
  #lastActivity = Number.NEGATIVE_INFINITY;
  /** From the first hold on, each request and response reads the clock; before, they are batched. */
  #exact = false;
  /** The end of the current batch of activity, which stamps it (before the first hold only). */
  #batch: TimerHandle | undefined;
  #held: Promise<void> | undefined;
  #release: (() => void) | undefined;
  #timer: TimerHandle | undefined;
  #settle: ((quiet: boolean) => void) | undefined;

  constructor(clock: Clock) {
    this.#clock = clock;
  }

  /**
   * Records that a request started (the quiet time restarts). Before the first
   * {@link ResponseGate.hold} this reads no clock: the end of the batch (25 ms after its first
   * event; a timer that keeps the event loop alive that long) stamps the batch's activity, so the
   * gate never takes the server for quieter than it was, and a hold may last up to 25 ms longer.
   */
  arrived(): void {
    this.#active();
  }

  /**
   * Records that a response went out (the quiet time restarts): its client may be about to send its
   * next request on that socket, or to reconnect.
   */
  departed(): void {
    this.#active();
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
   * Responses stay held until {@link ResponseGate.release}.
   */
  hold(quietMs: number, maxMs: number): Promise<HoldResult> {
    const clock = this.#clock;
    const start = clock.now();
    this.#beExact();
    if (!this.#held) this.#held = new Promise<void>((resolve) => (this.#release = resolve));
    return new Promise<HoldResult>((resolve) => {
      const done = (quiet: boolean): void => {
        if (this.#timer !== undefined) clock.clearTimeout(this.#timer);
        this.#timer = undefined;
        this.#settle = undefined;
        resolve({ heldMs: clock.now() - start, quiet });
      };
      this.#settle = done;
      /** The previous look found the server quiet; this one confirms it unless activity came between. */
      let seenQuiet = false;
      const check = (): void => {
        this.#timer = undefined;
        const now = clock.now();
        const quietSince = this.#lastActivity;
        const quiet = now - quietSince >= quietMs;
        if ((quiet && seenQuiet) || now - start >= maxMs) {
          done(quiet);
          return;
        }
        seenQuiet = quiet;
        // Confirm a quiet look after the runtime's next poll of its sockets; else sleep until the
        // earliest moment either condition can hold (arrivals only push it later).
        const due = quiet ? now + CONFIRM_MS : Math.min(quietSince + quietMs, start + maxMs);
        this.#timer = clock.setTimeout(check, Math.max(CONFIRM_MS, Math.ceil(due - now)));
      };
      check();
    });
  }

  /** Stops batching: activity noted in the batch under way happened at the latest now. */
  #beExact(): void {
    if (this.#exact) return;
    this.#exact = true;
    if (this.#batch === undefined) return;
    this.#clock.clearTimeout(this.#batch);
    this.#batch = undefined;
    this.#lastActivity = this.#clock.now();
  }

  #active(): void {
    if (this.#exact) this.#lastActivity = this.#clock.now();
    else if (this.#batch === undefined) this.#batch = this.#clock.setTimeout(this.#batchEnded, BATCH_MS);
  }

  readonly #batchEnded = (): void => {
    this.#batch = undefined;
    this.#lastActivity = this.#clock.now();
  };

  /** Lets every held response go, now and from now on; ends a pending {@link ResponseGate.hold}. Idempotent. */
  release(): void {
    this.#beExact();
    this.#settle?.(false);
    this.#release?.();
    this.#release = undefined;
    this.#held = undefined;
  }
}
