import { AddressInUseError, ListenerOptionError } from './errors.ts';
import { checkPort } from './internal/validate.ts';
import { diagnosePort } from './port-diagnosis.ts';

/** Where the failed bind was aimed, for {@link asAddressInUseError}. */
export interface ListenTarget {
  port: number;
  host?: string;
}

/**
 * Turns the EADDRINUSE error of any runtime's listen (`node:net`, `Bun.serve`, `Deno.serve`: they
 * all set `code: 'EADDRINUSE'`, possibly on the `cause`) into an {@link AddressInUseError} that
 * names the holder's pid and the port's TCP states, so every runtime reports a taken port alike.
 * Resolves with `undefined` for any other error (and returns an `AddressInUseError` as it is).
 * Throws {@link ListenerOptionError} for a bad target.
 *
 * @example
 * ```ts
 * try { Bun.serve({ port: 3000, fetch }); }
 * catch (error) {
 *   const inUse = await asAddressInUseError(error, { port: 3000 });
 *   console.error(inUse ? inUse.message : error);
 *   process.exit(1);
 * }
 * ```
 */
export async function asAddressInUseError(error: unknown, target: ListenTarget): Promise<AddressInUseError | undefined> {
  if (target === null || typeof target !== 'object') throw new ListenerOptionError('target', target, 'an object with the port (and host) of the bind');
  checkPort('target.port', target.port, 1);
  if (target.host !== undefined && (typeof target.host !== 'string' || target.host === '')) {
    throw new ListenerOptionError('target.host', target.host, 'a host name or an IP address');
  }
  if (error instanceof AddressInUseError) return error;
  const code = (value: unknown): unknown => (value !== null && typeof value === 'object' ? (value as { code?: unknown }).code : undefined);
  const cause = error !== null && typeof error === 'object' ? (error as { cause?: unknown }).cause : undefined;
  if (code(error) !== 'EADDRINUSE' && code(cause) !== 'EADDRINUSE') return undefined;
  const diagnosis = await diagnosePort(target.port);
  return new AddressInUseError(target.port, target.host, diagnosis, 0, diagnosis.summary, { cause: error });
}
