/** The part of Deno's permission API this module uses. */
interface DenoPermissions {
  querySync?(descriptor: { name: 'env'; variable: string }): { state: string };
}

/**
 * Whether `env[name]` can be read without a permission prompt or a `NotCapable` error. Only Deno's
 * own `process.env` is guarded (env access per variable: `--allow-env=NAME`), asked through
 * `Deno.permissions.querySync`, which never prompts; a plain object, Node and Bun: always `true`.
 */
export function envReadPermitted(env: object, name: string): boolean {
  const runtime = globalThis as { Deno?: { permissions?: DenoPermissions }; process?: { env?: object } };
  const permissions = runtime.Deno?.permissions;
  if (typeof permissions?.querySync !== 'function' || env !== runtime.process?.env) return true;
  try {
    return permissions.querySync({ name: 'env', variable: name }).state === 'granted';
  } catch {
    return false;
  }
}
