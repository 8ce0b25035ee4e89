import type { DenoHttpServer, DenoNetAddr, DenoUnixAddr } from '../deno-types.ts';

type ConnectOptions = { hostname: string; port: number } | { transport: 'unix'; path: string };
type PermissionDescriptor = { name: 'net'; host: string } | { name: 'read' | 'write'; path: string };

/** The part of the `Deno` global the adapter uses, looked up at call time (never at import). */
export interface DenoRuntime {
  serve(options: Record<string, unknown>): DenoHttpServer<DenoNetAddr | DenoUnixAddr>;
  connect(options: ConnectOptions): Promise<{ close(): void }>;
  readonly permissions?: { querySync?(descriptor: PermissionDescriptor): { readonly state: string } };
  /** Present only with `--unstable-net` (the flag `reusePort` needs). */
  readonly listenDatagram?: unknown;
}

/** The `Deno` global, or `undefined` outside Deno. */
export function denoRuntime(): DenoRuntime | undefined {
  const deno = (globalThis as unknown as { Deno?: Partial<DenoRuntime> }).Deno;
  return deno && typeof deno.serve === 'function' && typeof deno.connect === 'function' ? (deno as DenoRuntime) : undefined;
}
