import { type TimerHandle, quiesceChannels } from '@quiesce/core';
import { RegistryOptionError, RegistryStateError, RegistryTimeoutError } from '../errors.ts';
import type {
  RegistryCallOptions,
  RegistryOperation,
  RegistryOutcome,
  RegistryResult,
  RegistryState,
  ServiceInstance,
  ServiceRegistry,
} from '../service-registry.ts';
import { Budget, raceSignal } from './budget.ts';
import { describeReason } from './describe.ts';
import { type CommonConfig, type ResolvedInstance, callConfig, resolveInstance } from './options.ts';

/** What a backend does; {@link createRegistry} adds the contract (state, bounds, results, logs, loop). */
export interface RegistryDriver {
  readonly name: string;
  /** Time between keep-alive rounds. */
  readonly keepAliveIntervalMs: number;
  /** How an entry that was not removed disappears by itself, for the log. */
  readonly expiry: string;
  /** What the instance is called in the registry: the etcd key, the Consul service ID. */
  entry(instance: ResolvedInstance): string;
  /** Announces the instance; returns a detail for the log (the lease, the check). */
  announce(instance: ResolvedInstance, budget: Budget): Promise<string>;
  /** Renews the registration; `lost` when the registry no longer has it. */
  renew(instance: ResolvedInstance, budget: Budget): Promise<'alive' | 'lost'>;
  /** Removes whatever {@link RegistryDriver.announce} may have created, including half-done attempts. */
  withdraw(instance: ResolvedInstance, budget: Budget): Promise<void>;
}

/** `quiesce:registry:call`: every register / deregister / close result (the catalog's message is {@link RegistryResult}). */
const { registryCall } = quiesceChannels;

/** The budget's own time limit passed (as opposed to an outer signal aborting). */
class OwnTimeout {}

/**
 * Wraps a driver in the registry contract: `register` / `deregister` / `close` bounded by their
 * timeout and signal, resolving to a result and never rejecting; a keep-alive loop that renews the
 * registration every `keepAliveIntervalMs` and re-announces it when lost; one log line per
 * failure or state change.
 */
export function createRegistry(driver: RegistryDriver, config: CommonConfig): ServiceRegistry {
  const { clock, timeoutMs: defaultTimeoutMs } = config;
  const intervalMs = driver.keepAliveIntervalMs;
  let state: RegistryState = 'idle';
  let instance: ResolvedInstance | undefined;
  /** Whether the last announce succeeded and nothing said it was lost since. */
  let announced = false;
  /** Whether the registry may hold something of ours (even a failed announce can leave a lease behind). */
  let pending = false;
  let loop: AbortController | undefined;
  let timer: TimerHandle | undefined;
  let round: Promise<void> | undefined;
  let failedRounds = 0;

  const log = (line: string): void => {
    if (!config.log) return;
    try {
      config.log(`quiesce-registry: ${driver.name} ${line}`);
    } catch {
      // A throwing logger must not break registration or shutdown.
    }
  };
  const ms = (n: number): string => `${Math.round(n)}ms`;

  /** Runs one call under its budget and turns whatever happens into a result. */
  async function run(
    operation: RegistryOperation,
    options: { signal: AbortSignal | undefined; timeoutMs: number },
    work: (budget: Budget) => Promise<void>,
  ): Promise<RegistryResult> {
    const started = clock.now();
    const budget = new Budget(options.timeoutMs, [options.signal], clock, () => new OwnTimeout());
    let outcome: RegistryOutcome = 'ok';
    let error: Error | undefined;
    try {
      await raceSignal(work(budget), budget.signal);
    } catch (thrown) {
      if (budget.signal.aborted) {
        outcome = 'timeout';
        const reason: unknown = budget.signal.reason;
        error =
          reason instanceof OwnTimeout
            ? new RegistryTimeoutError(driver.name, operation, options.timeoutMs, true)
            : new RegistryTimeoutError(driver.name, operation, options.timeoutMs, false, { cause: reason });
      } else {
        outcome = 'error';
        error = thrown instanceof Error ? thrown : new Error(describeReason(thrown), { cause: thrown });
      }
    } finally {
      budget.dispose();
    }
    const entry = instance === undefined ? undefined : driver.entry(instance);
    const result: RegistryResult = { registry: driver.name, operation, outcome, durationMs: clock.now() - started, entry, error };
    // Each backend publishes its own calls; combineRegistries() only sums them up, and publishes nothing.
    if (registryCall.hasSubscribers) registryCall.publish(result);
    return result;
  }

  /** One step of the loop: announce when not announced, else renew (and re-announce when lost). */
  async function step(budget: Budget, background: boolean): Promise<string | undefined> {
    const current = instance!;
    const started = clock.now();
    if (!announced) {
      const detail = await driver.announce(current, budget);
      announced = true;
      const first = state === 'registering';
      state = 'registered';
      if (background && first) {
        log(`registered ${driver.entry(current)} (${detail}) in ${ms(clock.now() - started)} after ${failedRounds} failed attempts`);
      }
      return detail;
    }
    if ((await driver.renew(current, budget)) === 'alive') return undefined;
    announced = false;
    const detail = await driver.announce(current, budget);
    announced = true;
    log(`registration ${driver.entry(current)} was lost (expired or removed); re-registered (${detail}) in ${ms(clock.now() - started)}`);
    return detail;
  }

  /** Arms the next round `intervalMs` after the start of the last one, so a slow round does not stretch the cadence. */
  function schedule(lastStart: number): void {
    if (state !== 'registering' && state !== 'registered') return;
    if (timer !== undefined || !loop || loop.signal.aborted) return;
    const controller = loop;
    timer = clock.setTimeout(
      () => {
        timer = undefined;
        const started = clock.now();
        round = keepAliveRound(controller).finally(() => schedule(started));
      },
      Math.max(0, intervalMs - (clock.now() - lastStart)),
    );
  }

  async function keepAliveRound(controller: AbortController): Promise<void> {
    // A round may not outlast the interval: the next one must come before the TTL runs out.
    const budget = new Budget(Math.min(defaultTimeoutMs, intervalMs), [controller.signal], clock, () => new OwnTimeout());
    try {
      await raceSignal(step(budget, true), budget.signal);
      if (failedRounds > 0 && state === 'registered') log(`keep-alive recovered after ${failedRounds} failed rounds`);
      failedRounds = 0;
    } catch (error) {
      if (controller.signal.aborted) return;
      failedRounds++;
      if (failedRounds === 1) {
        const why = budget.signal.reason instanceof OwnTimeout ? `no answer within ${ms(Math.min(defaultTimeoutMs, intervalMs))}` : describeReason(error);
        const what = state === 'registering' ? 'registration' : 'keep-alive';
        log(`${what} failed: ${why}; retrying every ${ms(intervalMs)}`);
      }
    } finally {
      budget.dispose();
    }
  }

  /** Stops the loop and waits for the round in flight, which the abort ends at once. */
  async function stopLoop(by: 'deregister' | 'close'): Promise<void> {
    if (timer !== undefined) clock.clearTimeout(timer);
    timer = undefined;
    loop?.abort(new RegistryStateError(`${driver.name} registration was stopped by ${by}()`, state));
    const inFlight = round;
    round = undefined;
    await inFlight?.catch(() => {});
  }

  const registry: ServiceRegistry = {
    name: driver.name,
    get state() {
      return state;
    },

    register(given?: ServiceInstance, options?: RegistryCallOptions): Promise<RegistryResult> {
      const resolved = given === undefined ? config.instance : resolveInstance('instance', given);
      if (resolved === undefined) {
        throw new RegistryOptionError('instance', given, 'a ServiceInstance { service, host, port }, given to register() or to the factory');
      }
      const call = callConfig(options, defaultTimeoutMs);
      let detail: string | undefined;
      return run('register', call, async (budget) => {
        if (state === 'closed') throw new RegistryStateError(`The ${driver.name} registry is closed; create a new one to register again.`, state);
        if (state === 'registering' || state === 'registered') {
          throw new RegistryStateError(`Already registered in ${driver.name} (${state}); call deregister() before registering again.`, state);
        }
        instance = resolved;
        state = 'registering';
        announced = false;
        pending = true;
        failedRounds = 0;
        const controller = new AbortController();
        loop = controller;
        // The call's budget, also ended by deregister()/close() stopping the loop.
        const first = new Budget(Number.POSITIVE_INFINITY, [budget.signal, controller.signal], clock, () => new OwnTimeout(), budget);
        const started = clock.now();
        const attempt = raceSignal(step(first, false), first.signal).finally(() => first.dispose());
        round = attempt.then(
          () => {},
          () => {},
        );
        try {
          detail = await attempt;
        } finally {
          if (state === 'registering') failedRounds = 1;
          schedule(started);
        }
      }).then((result) => {
        if (result.outcome === 'ok') log(`registered ${result.entry} (${detail}) in ${ms(result.durationMs)}`);
        else if (state === 'registering') {
          log(`register ${result.outcome} after ${ms(result.durationMs)}: ${describeReason(result.error)}; retrying every ${ms(intervalMs)}`);
        } else log(`register ${result.outcome}: ${describeReason(result.error)}`);
        return result;
      });
    },

    deregister(options?: RegistryCallOptions): Promise<RegistryResult> {
      const call = callConfig(options, defaultTimeoutMs);
      let removed = false;
      return run('deregister', call, async (budget) => {
        if (state === 'closed') throw new RegistryStateError(`The ${driver.name} registry is closed; call deregister() before close().`, state);
        await stopLoop('deregister');
        if (state === 'registering' || state === 'registered') state = 'deregistered';
        if (!pending || !instance) return;
        await driver.withdraw(instance, budget);
        pending = false;
        announced = false;
        removed = true;
      }).then((result) => {
        if (result.outcome === 'ok') {
          if (removed) log(`deregistered ${result.entry} in ${ms(result.durationMs)}`);
        } else {
          log(`deregister ${result.outcome} after ${ms(result.durationMs)}: ${describeReason(result.error)}; keep-alive stopped, so ${driver.expiry}`);
        }
        return result;
      });
    },

    close(options?: RegistryCallOptions): Promise<RegistryResult> {
      const call = callConfig(options, defaultTimeoutMs);
      return run('close', call, async () => {
        if (state === 'closed') return;
        const leftBehind = pending;
        await stopLoop('close');
        state = 'closed';
        if (leftBehind && instance) log(`closed without deregistering ${driver.entry(instance)}; ${driver.expiry}`);
      });
    },
  };
  return registry;
}
