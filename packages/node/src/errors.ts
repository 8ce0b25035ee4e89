import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * The Node adapter was given something it cannot use; the message names the option and the value.
 * Extends `InvalidOptionError` from `@quiesce/core`.
 *
 * @example
 * ```ts
 * try { createNodeAdapter({} as never); }
 * catch (e) { if (e instanceof NodeAdapterOptionError) console.error(e.option); } // "server"
 * ```
 */
export class NodeAdapterOptionError extends InvalidOptionError {
  override readonly name: string = 'NodeAdapterOptionError';
  override readonly code: 'QUIESCE_NODE_INVALID_OPTION' = 'QUIESCE_NODE_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link NodeAdapterOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(NodeAdapterOptionError);
