/** The example's configuration, read from the environment (the interface is fixed: see README). */
export interface ExampleConfig {
  readonly port: number;
  readonly host: string;
  readonly lameDuckMs: number;
  readonly deadlineMs: number;
}

/** A variable had a value the example cannot use; the message names the variable. */
export class ExampleConfigError extends Error {
  override readonly name: string = 'ExampleConfigError';
  readonly code: 'QUIESCE_EXAMPLE_CONFIG' = 'QUIESCE_EXAMPLE_CONFIG';
  readonly variable: string;

  constructor(variable: string, value: string, expected: string) {
    super(`${variable}=${JSON.stringify(value)} is invalid: expected ${expected}.`);
    this.variable = variable;
  }
}

/**
 * Reads `PORT` (default 3000), `HOST` (default 127.0.0.1), `QUIESCE_LAME_DUCK_MS` (default 0) and
 * `QUIESCE_DEADLINE_MS` (default 10000). Throws {@link ExampleConfigError} naming the variable.
 *
 * @example
 * ```ts
 * const config = readConfig({ PORT: '8080' }); // { port: 8080, host: '127.0.0.1', ... }
 * ```
 */
export function readConfig(env: Record<string, string | undefined>): ExampleConfig {
  const integer = (name: string, fallback: number, min: number, max: number): number => {
    const raw = env[name];
    if (raw === undefined || raw === '') return fallback;
    if (!/^\d+$/.test(raw.trim())) throw new ExampleConfigError(name, raw, `a whole number from ${min} to ${max}`);
    const value = Number(raw.trim());
    if (value < min || value > max) throw new ExampleConfigError(name, raw, `a whole number from ${min} to ${max}`);
    return value;
  };
  const port = integer('PORT', 3000, 0, 65535);
  const host = env['HOST'] === undefined || env['HOST'] === '' ? '127.0.0.1' : env['HOST'];
  if (/\s|\//.test(host)) throw new ExampleConfigError('HOST', host, 'a host name or IP address');
  const deadlineMs = integer('QUIESCE_DEADLINE_MS', 10_000, 1, 24 * 60 * 60 * 1000);
  const lameDuckMs = integer('QUIESCE_LAME_DUCK_MS', 0, 0, 24 * 60 * 60 * 1000);
  if (lameDuckMs >= deadlineMs) {
    throw new ExampleConfigError('QUIESCE_LAME_DUCK_MS', String(lameDuckMs), `less than QUIESCE_DEADLINE_MS (${deadlineMs})`);
  }
  return { port, host, lameDuckMs, deadlineMs };
}
