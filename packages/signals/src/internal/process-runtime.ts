import type { SignalName } from '../signal-names.ts';
import { platformOf, type Runtime, type UncaughtSource } from './runtime.ts';

/** The part of Node's and Bun's `process` global this package uses (declared here: no @types/node). */
export interface ProcessGlobal {
  on(event: string, listener: (...args: never[]) => void): unknown;
  removeListener(event: string, listener: (...args: never[]) => void): unknown;
  exit(code?: number): void;
  readonly platform?: string;
}

/** Signals and uncaught failures through `process` events (Node and Bun). */
export function processRuntime(proc: ProcessGlobal): Runtime {
  return {
    name: 'process',
    platform: platformOf(proc.platform),
    listenSignal(signal: SignalName, handler: () => void): () => void {
      // A fresh function per listener, so removing it can never remove a listener the app added itself.
      const listener = (): void => handler();
      proc.on(signal, listener);
      return () => {
        proc.removeListener(signal, listener);
      };
    },
    listenUncaught(handler: (error: unknown, source: UncaughtSource) => void): () => void {
      // Having a listener is what keeps Node and Bun from exiting, so the graceful stop can run.
      const onException = (error: unknown): void => handler(error, 'uncaughtException');
      const onRejection = (reason: unknown): void => handler(reason, 'unhandledRejection');
      proc.on('uncaughtException', onException);
      proc.on('unhandledRejection', onRejection);
      return () => {
        proc.removeListener('uncaughtException', onException);
        proc.removeListener('unhandledRejection', onRejection);
      };
    },
    exit(code: number): void {
      proc.exit(code);
    },
  };
}
