import { InvalidOptionError } from '@quiesce/drain';

/**
 * The Node adapter was given something it cannot use; the message names the option and the value.
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
