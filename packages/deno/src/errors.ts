import { InvalidOptionError, type OptionChecks, describeValue, optionChecks } from '@quiesce/core';

/**
 * `serveDeno` was given a value it cannot use; the message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { serveDeno({ handler, port: 8000 }, { idleGraceMs: -1 }); }
 * catch (e) { if (e instanceof DenoAdapterOptionError) console.error(e.option); } // "idleGraceMs"
 * ```
 */
export class DenoAdapterOptionError extends InvalidOptionError {
  override readonly name: string = 'DenoAdapterOptionError';
  override readonly code: 'QUIESCE_DENO_INVALID_OPTION' = 'QUIESCE_DENO_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link DenoAdapterOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(DenoAdapterOptionError);

/**
 * A `Deno.serve` option that does not do what it says here: `fd` (Deno.serve cannot adopt a
 * socket; it ignores `fd` and binds a port instead), or `reusePort: true` without `--unstable-net`
 * (Deno prints a warning and exits the process with code 70, which no `try` can catch). Refused up
 * front; the message says what to do instead.
 *
 * @example
 * ```ts
 * try { serveDeno({ handler, port: 8000, reusePort: true }); }
 * catch (e) { if (e instanceof DenoUnsupportedOptionError) console.error(e.code, e.option); } // "reusePort"
 * ```
 */
export class DenoUnsupportedOptionError extends Error {
  override readonly name: string = 'DenoUnsupportedOptionError';
  readonly code: 'QUIESCE_DENO_UNSUPPORTED_OPTION' = 'QUIESCE_DENO_UNSUPPORTED_OPTION';
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, reason: string, options?: { cause?: unknown }) {
    super(`Unsupported ${option}: ${describeValue(value)}. ${reason}`, options);
    this.option = option;
    this.value = value;
  }
}

/**
 * `upgradeWebSocket` was called for a request served on an inherited socket (`quiesce run`, systemd
 * socket activation): `Deno.serve` cannot adopt that socket, so the adapter serves it through Deno's
 * `node:http`, whose requests Deno cannot upgrade (it would answer 101 and leave a dead socket).
 * Answer such requests another way (e.g. 501), or run without an inherited socket.
 *
 * @example
 * ```ts
 * try { return upgradeWebSocket(request).response; }
 * catch (e) { if (e instanceof DenoWebSocketUnsupportedError) return new Response('no WebSockets here\n', { status: 501 }); throw e; }
 * ```
 */
export class DenoWebSocketUnsupportedError extends Error {
  override readonly name: string = 'DenoWebSocketUnsupportedError';
  readonly code: 'QUIESCE_DENO_WEBSOCKET_UNSUPPORTED' = 'QUIESCE_DENO_WEBSOCKET_UNSUPPORTED';

  constructor(options?: { cause?: unknown }) {
    super(
      'This request came through an inherited socket, which Deno serves with node:http, where Deno.upgradeWebSocket does not work (it answers 101 and the socket stays dead). Answer it another way (e.g. 501), or serve WebSockets from a Deno.serve that binds its own port.',
      options,
    );
  }
}

/**
 * `serveDeno` was called outside Deno (there is no `globalThis.Deno.serve`). On Node use
 * `@quiesce/node`, on Bun `@quiesce/bun`.
 *
 * @example
 * ```ts
 * try { serveDeno({ handler }); }
 * catch (e) { if (e instanceof DenoRuntimeError) console.error(e.code); } // "QUIESCE_DENO_RUNTIME_MISSING"
 * ```
 */
export class DenoRuntimeError extends Error {
  override readonly name: string = 'DenoRuntimeError';
  readonly code: 'QUIESCE_DENO_RUNTIME_MISSING' = 'QUIESCE_DENO_RUNTIME_MISSING';

  constructor(options?: { cause?: unknown }) {
    super('serveDeno needs the Deno runtime (globalThis.Deno.serve is missing). On Node use @quiesce/node, on Bun @quiesce/bun.', options);
  }
}
