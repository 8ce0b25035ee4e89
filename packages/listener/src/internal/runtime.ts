import process from 'node:process';

/** Which runtime this is, told by `process.versions` (Bun and Deno set their own key besides `node`). */
export interface RuntimeInfo {
  readonly name: 'node' | 'bun' | 'deno';
  readonly version: string;
}

/** The current runtime and its version. */
export function currentRuntime(): RuntimeInfo {
  const versions = process.versions as Record<string, string | undefined>;
  if (versions['bun']) return { name: 'bun', version: versions['bun'] };
  if (versions['deno']) return { name: 'deno', version: versions['deno'] };
  return { name: 'node', version: versions['node'] ?? '0.0.0' };
}

/**
 * Whether `listen({ reusePort: true })` really sets SO_REUSEPORT here. Node added it in 23.1 and
 * 22.12 and silently ignores it before; Bun and Deno honour it.
 */
export function reusePortSupported(runtime: RuntimeInfo = currentRuntime()): boolean {
  if (runtime.name !== 'node') return true;
  const [major = 0, minor = 0] = runtime.version.split('.').map(Number);
  return major >= 24 || (major === 23 && minor >= 1) || (major === 22 && minor >= 12);
}
