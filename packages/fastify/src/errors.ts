import { InvalidOptionError, type OptionChecks, optionChecks } from '@quiesce/core';

/**
 * An option of the Fastify plugin cannot be used; the message names the option and the value.
 * Options passed through to the lifecycle, the drain and the Node adapter are reported with this
 * class too, the original error as `cause`. Fastify rejects `register()` / `ready()` / `listen()`
 * with it.
 *
 * @example
 * ```ts
 * await app.register(fastifyQuiesce, { deadlineMs: -1 }).ready().catch((e) => {
 *   if (e instanceof FastifyQuiesceOptionError) console.error(e.option, e.code); // "deadlineMs"
 * });
 * ```
 */
export class FastifyQuiesceOptionError extends InvalidOptionError {
  override readonly name: string = 'FastifyQuiesceOptionError';
  override readonly code: 'QUIESCE_FASTIFY_INVALID_OPTION' = 'QUIESCE_FASTIFY_INVALID_OPTION';
}

/** The shared option checks (`@quiesce/core`), throwing {@link FastifyQuiesceOptionError}. */
export const check: OptionChecks = /* @__PURE__ */ optionChecks(FastifyQuiesceOptionError);
