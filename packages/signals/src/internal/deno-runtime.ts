import type { SignalName } from '../signal-names.ts';
import { platformOf, type Runtime, type UncaughtSource } from './runtime.ts';

/** The part of the `Deno` global this package uses (declared here: the package has no Deno types). */
export interface DenoGlobal {
  addSignalListener(signal: string, handler: () => void): void;
  removeSignalListener(signal: string, handler: () => void): void;
  exit(code?: number): void;
  readonly build?: { readonly os?: string };
}

/** The events Deno dispatches on `globalThis` for uncaught failures. */
interface EventTargetGlobal {
  addEventListener(type: string, listener: (event: Event) => void): void;
  removeEventListener(type: string, listener: (event: Event) => void): void;
}

/** Signals through `Deno.addSignalListener`; uncaught failures through the `error` and `unhandledrejection` events. */
export function denoRuntime(deno: DenoGlobal): Runtime {
  return {
    name: 'deno',
    platform: platformOf(deno.build?.os),
    listenSignal(signal: SignalName, handler: () => void): () => void {
      // A fresh function per listener, so removing it can never remove a listener the app added itself.
      const listener = (): void => handler();
      deno.addSignalListener(signal, listener);
      return () => deno.removeSignalListener(signal, listener);
    },
    listenUncaught(handler: (error: unknown, source: UncaughtSource) => void): () => void {
      const target = globalThis as unknown as EventTargetGlobal;
      const onError = (event: Event): void => {
        // preventDefault keeps Deno from exiting, so the graceful stop can run.
        event.preventDefault();
        handler((event as ErrorEvent).error, 'uncaughtException');
      };
      const onRejection = (event: Event): void => {
        event.preventDefault();
        handler((event as PromiseRejectionEvent).reason, 'unhandledRejection');
      };
      target.addEventListener('error', onError);
      target.addEventListener('unhandledrejection', onRejection);
      return () => {
        target.removeEventListener('error', onError);
        target.removeEventListener('unhandledrejection', onRejection);
      };
    },
    exit(code: number): void {
      deno.exit(code);
    },
  };
}
