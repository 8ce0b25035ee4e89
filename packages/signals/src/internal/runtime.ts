import type { SignalName, SignalPlatform } from '../signal-names.ts';

/** Which kind of uncaught failure reached the runtime. */
export type UncaughtSource = 'uncaughtException' | 'unhandledRejection';

/** The few runtime capabilities a policy needs; one implementation per runtime family. */
export interface Runtime {
  readonly name: 'deno' | 'process';
  readonly platform: SignalPlatform;
  /** Starts listening; returns the function that removes exactly this listener. May throw. */
  listenSignal(signal: SignalName, handler: () => void): () => void;
  /** Routes uncaught exceptions and unhandled rejections to `handler` instead of crashing; returns the remover. */
  listenUncaught(handler: (error: unknown, source: UncaughtSource) => void): () => void;
  exit(code: number): void;
}

/** BSD-family systems share macOS's signal numbering; everything else uses Linux's. */
export function platformOf(os: unknown): SignalPlatform {
  return os === 'darwin' || os === 'freebsd' || os === 'openbsd' || os === 'netbsd' ? 'darwin' : 'linux';
}
