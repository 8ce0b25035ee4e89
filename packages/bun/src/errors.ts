import { InvalidOptionError, type OptionChecks, describeValue, optionChecks } from '@quiesce/core';

/**
 * `serveBun` was given a value it cannot use; the message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { serveBun({ fetch: () => new Response('ok') }, { idleGraceMs: -1 }); }
 * catch (e) { if (e instanceof BunAdapterOptionError) console.error(e.option); } // "idleGraceMs"
 * ```
 */
export class BunAdapterOptionError extends InvalidOptionError {
  override readonly name: string = 'BunAdapterOptionError';
  override readonly code: 'QUIESCE_BUN_INVALID_OPTION' = 'QUIESCE_BUN_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link BunAdapterOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(BunAdapterOptionError);

/**
 * A `Bun.serve` option that Bun would accept but that does not do what it says (such as `fd`, which
 * Bun ignores, binding port 3000 instead), or that would let requests bypass the adapter (static
 * `routes`). Refused up front rather than misbehaving silently; the message says what to do instead.
 *
 * @example
 * ```ts
 * try { serveBun({ fd: 3, fetch }); }
 * catch (e) { if (e instanceof BunUnsupportedOptionError) console.error(e.code, e.option); } // "fd"
 * ```
 */
export class BunUnsupportedOptionError extends Error {
  override readonly name: string = 'BunUnsupportedOptionError';
  readonly code: 'QUIESCE_BUN_UNSUPPORTED_OPTION' = 'QUIESCE_BUN_UNSUPPORTED_OPTION';
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, reason: string, options?: { cause?: unknown }) {
    super(`Unsupported ${option}: ${describeValue(value)}. ${reason}`, options);
    this.option = option;
    this.value = value;
  }
}

/**
 * `serveBun` was called outside Bun (there is no `globalThis.Bun`). On Node use `@quiesce/node`, on
 * Deno `@quiesce/deno`.
 *
 * @example
 * ```ts
 * try { serveBun({ fetch }); }
 * catch (e) { if (e instanceof BunRuntimeError) console.error(e.code); } // "QUIESCE_BUN_RUNTIME_MISSING"
 * ```
 */
export class BunRuntimeError extends Error {
  override readonly name: string = 'BunRuntimeError';
  readonly code: 'QUIESCE_BUN_RUNTIME_MISSING' = 'QUIESCE_BUN_RUNTIME_MISSING';

  constructor(options?: { cause?: unknown }) {
    super('serveBun needs the Bun runtime (globalThis.Bun is missing). On Node use @quiesce/node, on Deno @quiesce/deno.', options);
  }
}
