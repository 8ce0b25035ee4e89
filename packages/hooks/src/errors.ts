/** Describes a value for an error message without throwing on odd inputs. */
function show(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  // JSON.stringify would print NaN and Infinity as "null".
  if (typeof value === 'number') return String(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * A public option was given a value it cannot take. The message names the option and the value.
 *
 * @example
 * ```ts
 * try { hooks.add('db', close, { timeoutMs: -1 }); }
 * catch (e) { if (e instanceof HooksOptionError) console.error(e.option, e.code); }
 * ```
 */
export class HooksOptionError extends TypeError {
  override readonly name: string = 'HooksOptionError';
  readonly code: 'QUIESCE_HOOKS_INVALID_OPTION' = 'QUIESCE_HOOKS_INVALID_OPTION';
  /** The option's name, e.g. `timeoutMs`. */
  readonly option: string;
  /** The value that was refused. */
  readonly value: unknown;

  constructor(option: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${option}: ${show(value)}. Expected ${expected}.`, options);
    this.option = option;
    this.value = value;
  }
}

/**
 * Hooks were changed after the run started; register every hook before shutdown begins.
 *
 * @example
 * ```ts
 * void hooks.run();
 * hooks.add('late', () => {}); // throws HooksStateError
 * ```
 */
export class HooksStateError extends Error {
  override readonly name: string = 'HooksStateError';
  readonly code: 'QUIESCE_HOOKS_ALREADY_RUNNING' = 'QUIESCE_HOOKS_ALREADY_RUNNING';
}

/**
 * A hook did not settle within its own `timeoutMs`; it was abandoned and its signal aborted.
 *
 * @example
 * ```ts
 * if (result.error instanceof HookTimeoutError) console.warn(result.error.timeoutMs);
 * ```
 */
export class HookTimeoutError extends Error {
  override readonly name: string = 'HookTimeoutError';
  readonly code: 'QUIESCE_HOOK_TIMEOUT' = 'QUIESCE_HOOK_TIMEOUT';
  readonly hook: string;
  readonly timeoutMs: number;

  constructor(hook: string, timeoutMs: number, options?: { cause?: unknown }) {
    super(
      `Hook "${hook}" did not finish within its timeout of ${timeoutMs} ms and was abandoned; make it honour its AbortSignal or raise its timeoutMs.`,
      options,
    );
    this.hook = hook;
    this.timeoutMs = timeoutMs;
  }
}

/**
 * The global shutdown deadline passed. Used as the abort reason of every deadline signal.
 *
 * @example
 * ```ts
 * signal.addEventListener('abort', () => {
 *   if (signal.reason instanceof DeadlineExceededError) console.warn('out of time');
 * });
 * ```
 */
export class DeadlineExceededError extends Error {
  override readonly name: string = 'DeadlineExceededError';
  readonly code: 'QUIESCE_DEADLINE_EXCEEDED' = 'QUIESCE_DEADLINE_EXCEEDED';
  readonly timeoutMs: number;

  constructor(timeoutMs: number, options?: { cause?: unknown }) {
    super(
      `The shutdown deadline of ${timeoutMs} ms passed; unfinished work was abandoned. Allow more time or make the slow work honour its AbortSignal.`,
      options,
    );
    this.timeoutMs = timeoutMs;
  }
}
