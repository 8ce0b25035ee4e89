import { describeValue } from '@quiesce/drain';

/**
 * The Node adapter was given something it cannot use; the message names the option and the value.
 *
 * @example
 * ```ts
 * try { createNodeAdapter({} as never); }
 * catch (e) { if (e instanceof NodeAdapterOptionError) console.error(e.option); } // "server"
 * ```
 */
export class NodeAdapterOptionError extends TypeError {
  override readonly name: string = 'NodeAdapterOptionError';
  readonly code: 'QUIESCE_NODE_INVALID_OPTION' = 'QUIESCE_NODE_INVALID_OPTION';
  readonly option: string;
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${option}: ${describeValue(value)}. Expected ${expected}.`, options);
    this.option = option;
    this.value = value;
  }
}
