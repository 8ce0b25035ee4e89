/** What this module asks Deno about: reading one environment variable, or reading under a path. */
type Descriptor = { readonly name: 'env'; readonly variable: string } | { readonly name: 'read'; readonly path: string };

/** The part of Deno's permission API this module uses. */
interface DenoPermissions {
  querySync?(descriptor: Descriptor): { state: string };
}

/**
 * Whether the runtime lets this process do `descriptor` without a permission prompt or a
 * `NotCapable` error. Deno asks per variable (`--allow-env=NAME`) and per path (`--allow-read=PATH`);
 * `Deno.permissions.querySync` answers without prompting, and only `granted` counts. Node and Bun
 * have no such permissions: always `true`.
 */
export function runtimePermits(descriptor: Descriptor): boolean {
  const permissions = (globalThis as { Deno?: { permissions?: DenoPermissions } }).Deno?.permissions;
  if (typeof permissions?.querySync !== 'function') return true;
  try {
    return permissions.querySync(descriptor).state === 'granted';
  } catch {
    return false;
  }
}

/** {@link runtimePermits} for reading the environment variable `name`. */
export function envReadPermitted(name: string): boolean {
  return runtimePermits({ name: 'env', variable: name });
}
