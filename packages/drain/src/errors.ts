/** Describes a value for an error message without throwing on odd inputs. */
export function describeValue(value: unknown): string {
  if (typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'function') return `function ${value.name || '(anonymous)'}`;
  if (typeof value === 'bigint') return `${value}n`;
  if (value !== null && typeof value === 'object') {
    const name = (value as { constructor?: { name?: string } }).constructor?.name;
    if (name && name !== 'Object' && name !== 'Array') return `a ${name} instance`;
  }
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}

/**
 * The base of every Quiesce adapter's option error: the message names the option and the value and
 * says what was expected. Each package's subclass sets its own `name` and stable `code`.
 *
 * @example
 * ```ts
 * try { createNodeAdapter(server, { holdMaxMs: -1 }); }
 * catch (e) { if (e instanceof InvalidOptionError) console.error(e.option, e.code); } // "holdMaxMs"
 * ```
 */
export class InvalidOptionError extends TypeError {
  override readonly name: string = 'InvalidOptionError';
  readonly code: string = 'QUIESCE_INVALID_OPTION';
  /** The option's name, e.g. `deadlineMs`. */
  readonly option: string;
  /** The value that was refused. */
  readonly value: unknown;
  /** What would have been accepted, e.g. `a finite number of milliseconds ≥ 0`. */
  readonly expected: string;

  constructor(option: string, value: unknown, expected: string, options?: { cause?: unknown }) {
    super(`Invalid ${option}: ${describeValue(value)}. Expected ${expected}.`, options);
    this.option = option;
    this.value = value;
    this.expected = expected;
  }
}

/**
 * A drain option or an adapter argument was given a value it cannot take. The message names the
 * option and the value.
 *
 * @example
 * ```ts
 * try { new ConnectionTracker({ idleGraceMs: -1 }); }
 * catch (e) { if (e instanceof DrainOptionError) console.error(e.option); } // "idleGraceMs"
 * ```
 */
export class DrainOptionError extends InvalidOptionError {
  override readonly name: string = 'DrainOptionError';
  override readonly code: 'QUIESCE_DRAIN_INVALID_OPTION' = 'QUIESCE_DRAIN_INVALID_OPTION';
}

/** Throws a {@link DrainOptionError} unless `value` is a finite number ≥ 0. */
export function assertDuration(option: string, value: unknown): asserts value is number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw new DrainOptionError(option, value, 'a finite number of milliseconds ≥ 0');
  }
}
