import { SignalsOptionError, check } from '../errors.ts';
import { type ExitCodes, resolveExitCodes } from '../exit-codes.ts';
import { defaultSignalIntents, type Intent, isIntent } from '../signal-intents.ts';
import { isSignalName, type SignalName, unknownSignal, unlistenableReason } from '../signal-names.ts';
import type { SignalPolicyOptions, SignalsErrorSource } from '../signal-policy.ts';

/** The options after validation, with every default applied. */
export interface ResolvedPolicyOptions {
  readonly graceful: NonNullable<SignalPolicyOptions['graceful']>;
  readonly immediate: SignalPolicyOptions['immediate'];
  readonly restart: SignalPolicyOptions['restart'];
  readonly waiter: SignalPolicyOptions['waiter'];
  /** Every signal `install()` listens to, with its mapped intent, in listening order. */
  readonly intents: ReadonlyMap<SignalName, Intent>;
  readonly exitCodes: ExitCodes;
  /** `undefined` means the runtime's own exit. */
  readonly exit: ((code: number) => void) | false | undefined;
  readonly catchErrors: boolean;
  readonly onError: (error: unknown, source: SignalsErrorSource) => void;
}

const known = ['graceful', 'immediate', 'restart', 'signals', 'waiter', 'exitCodes', 'exit', 'catchErrors', 'onError'];

/** Validates every option; throws {@link SignalsOptionError} naming the first bad one. */
export function resolvePolicyOptions(options: unknown): ResolvedPolicyOptions {
  check.object('options', options, 'an object with at least a graceful handler: { graceful: async () => {} }');
  const o = options as Record<string, unknown>;
  for (const key of Object.keys(o)) {
    if (!known.includes(key)) throw new SignalsOptionError(`options.${key}`, o[key], `no such option; the options are ${known.join(', ')}`);
  }
  const { graceful, immediate, restart, waiter, exit, catchErrors = false, onError = defaultOnError } = o;
  check.function('graceful', graceful, 'a function that performs the graceful stop, e.g. async ({ abortSignal }) => { await server.close(); }');
  optionalFunction('immediate', immediate);
  optionalFunction('restart', restart);
  optionalFunction('waiter', waiter);
  if (exit !== undefined && exit !== false && typeof exit !== 'function') {
    throw new SignalsOptionError('exit', exit, 'a function (code) => void, or false to never exit (the code is still reported by done and exitCode)');
  }
  check.boolean('catchErrors', catchErrors);
  check.function('onError', onError, 'a function (error, source) => void');

  return {
    graceful: graceful as ResolvedPolicyOptions['graceful'],
    immediate: immediate as ResolvedPolicyOptions['immediate'],
    restart: restart as ResolvedPolicyOptions['restart'],
    waiter: waiter as ResolvedPolicyOptions['waiter'],
    intents: resolveIntents(o['signals'], restart !== undefined),
    exitCodes: resolveExitCodes(o['exitCodes']),
    exit: exit as ResolvedPolicyOptions['exit'],
    catchErrors,
    onError: onError as ResolvedPolicyOptions['onError'],
  };
}

function resolveIntents(overrides: unknown, canRestart: boolean): ReadonlyMap<SignalName, Intent> {
  if (overrides !== undefined) {
    check.object('signals', overrides, 'an object mapping signal names to intents, e.g. { SIGUSR1: "graceful", SIGHUP: "ignore" }');
  }
  const given = (overrides ?? {}) as Record<string, unknown>;
  for (const [name, intent] of Object.entries(given)) {
    const option = `signals.${name}`;
    if (!isSignalName(name)) throw unknownSignal(option, name);
    const refused = unlistenableReason(name);
    if (refused !== undefined) throw new SignalsOptionError(option, intent, `no entry for ${name}: it ${refused}`);
    if (intent !== false && !isIntent(intent)) {
      throw new SignalsOptionError(option, intent, '"graceful", "immediate", "restart", "ignore", or false to leave the signal to the runtime');
    }
    if (intent === 'restart' && !canRestart) {
      throw new SignalsOptionError(option, intent, 'another intent: "restart" needs a restart handler, so pass the restart option too');
    }
  }
  const intents = new Map<SignalName, Intent>();
  for (const [name, intent] of Object.entries({ ...defaultSignalIntents, ...given }) as [SignalName, Intent | false][]) {
    if (intent === false) continue;
    // The default SIGUSR2 → restart is only listened to when there is something to restart.
    if (intent === 'restart' && !canRestart) continue;
    intents.set(name, intent);
  }
  return intents;
}

function optionalFunction(option: string, value: unknown): void {
  if (value !== undefined) check.function(option, value, 'a function, or leave it out');
}

function defaultOnError(error: unknown, source: SignalsErrorSource): void {
  console.error(`[@quiesce/signals] ${source}:`, error);
}
