import { SignalsRuntimeError } from '../errors.ts';
import { type DenoGlobal, denoRuntime } from './deno-runtime.ts';
import { type ProcessGlobal, processRuntime } from './process-runtime.ts';
import type { Runtime } from './runtime.ts';

/**
 * Finds the runtime, at call time only (never at import). Deno comes first because Deno 2 also has
 * a `process` global, a compatibility layer over the `Deno` APIs.
 */
export function detectRuntime(): Runtime {
  const g = globalThis as unknown as { Deno?: Partial<DenoGlobal>; process?: Partial<ProcessGlobal> };
  const deno = g.Deno;
  if (deno && typeof deno.addSignalListener === 'function' && typeof deno.removeSignalListener === 'function') {
    return denoRuntime(deno as DenoGlobal);
  }
  const proc = g.process;
  if (proc && typeof proc.on === 'function' && typeof proc.removeListener === 'function') {
    return processRuntime(proc as ProcessGlobal);
  }
  throw new SignalsRuntimeError(
    'No signal API found: this runtime has neither Deno.addSignalListener nor process.on. Use @quiesce/signals on Node, Bun or Deno, or drive the stop with policy.trigger().',
  );
}
