/** What {@link runtimePermits} asks about: reading one environment variable, or reading under a path. */
export type PermissionDescriptor = { readonly name: 'env'; readonly variable: string } | { readonly name: 'read'; readonly path: string };

/** The part of Deno's permission API this module uses. */
interface DenoPermissions {
  querySync?(descriptor: PermissionDescriptor): { state: string };
}

/**
 * Whether the runtime lets this process do `descriptor` without a permission prompt or a
 * `NotCapable` error. Deno asks per variable (`--allow-env=NAME`) and per path (`--allow-read=PATH`);
 * `Deno.permissions.querySync` answers without prompting, and only `granted` counts. Node and Bun
 * have no such permissions: always `true`. Never throws.
 *
 * @example
 * ```ts
 * if (runtimePermits({ name: 'read', path: '/proc/net/tcp' })) readProcNet();
 * ```
 */
export function runtimePermits(descriptor: PermissionDescriptor): boolean {
  const permissions = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno?.permissions;
  if (typeof permissions?.querySync !== 'function') return true;
  try {
    return permissions.querySync(descriptor).state === 'granted';
  } catch {
    return false;
  }
}

/**
 * Whether the environment variable `name` can be read from `env` without a prompt or a `NotCapable`
 * error: only the runtime's own `process.env` is guarded (on Deno); any other object (a plain
 * record a caller passed) can always be read.
 *
 * @example
 * ```ts
 * const fds = envReadPermitted('LISTEN_FDS') ? process.env.LISTEN_FDS : undefined;
 * ```
 */
export function envReadPermitted(name: string, env?: object): boolean {
  if (env !== undefined && env !== (globalThis as { process?: { env?: object } }).process?.env) return true;
  return runtimePermits({ name: 'env', variable: name });
}
