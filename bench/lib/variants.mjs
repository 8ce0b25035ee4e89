// The rows: every runtime's bare server and its graceful wrappers, Quiesce and the anchors. A part
// picks the ones it measures. A variant with `pending: '<why>'` is printed as such and not run (a
// row whose adapter does not exist yet); each server script implements its BENCH_VARIANT values.
import { fileURLToPath } from 'node:url';
import { startServer } from './harness.mjs';

const script = (runtime) => fileURLToPath(new URL(`../servers/${runtime}-server.mjs`, import.meta.url));

/** Every variant, by runtime. `anchor` names what the bare server does on SIGTERM. */
export const VARIANTS = Object.freeze({
  node: [
    { runtime: 'node', variant: 'bare', label: 'node bare', shutdown: 'server.close()' },
    { runtime: 'node', variant: 'quiesce', label: 'node quiesce', shutdown: 'createLifecycle' },
    { runtime: 'node', variant: 'http-terminator', label: 'node http-terminator', shutdown: 'terminate()' },
    { runtime: 'node', variant: 'terminus', label: 'node terminus', shutdown: 'createTerminus' },
    { runtime: 'node', variant: 'stoppable', label: 'node stoppable', shutdown: 'server.stop()' },
  ],
  bun: [
    { runtime: 'bun', variant: 'bare', label: 'bun bare', shutdown: 'server.stop()' },
    { runtime: 'bun', variant: 'quiesce', label: 'bun quiesce', shutdown: 'createLifecycle' },
  ],
  deno: [
    { runtime: 'deno', variant: 'bare', label: 'deno bare', shutdown: 'server.shutdown()' },
    { runtime: 'deno', variant: 'quiesce', label: 'deno quiesce', shutdown: 'createLifecycle' },
  ],
});

/** The variants of `runtimes`, optionally only those named in `only` (variant names). */
export function selectVariants(runtimes, only) {
  const out = [];
  for (const runtime of runtimes) {
    const list = VARIANTS[runtime];
    if (!list) throw new Error(`Unknown runtime ${JSON.stringify(runtime)}: use node, bun or deno.`);
    out.push(...list.filter((v) => !only || only.includes(v.variant)));
  }
  return out;
}

/** Starts the server of one variant as a child process (harness `startServer`). */
export function startVariant(v, env = {}) {
  return startServer({
    runtime: v.runtime,
    script: script(v.runtime),
    env: { BENCH_VARIANT: v.variant, ...env },
    timeoutMs: 30_000,
  });
}
