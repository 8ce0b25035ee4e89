import type {
  RegistryCallOptions,
  RegistryOutcome,
  RegistryResult,
  RegistryState,
  ServiceInstance,
  ServiceRegistry,
} from '../service-registry.ts';

/**
 * Several registries as one: every call goes to all of them concurrently. The result is `ok` when
 * all are, `timeout` when any timed out, else `error`; its error is the one failure or an
 * `AggregateError` of several. Each registry logs for itself.
 */
export function combineRegistries(registries: readonly ServiceRegistry[]): ServiceRegistry {
  const name = registries.map((r) => r.name).join('+');
  const all = async (calls: readonly Promise<RegistryResult>[], operation: RegistryResult['operation']): Promise<RegistryResult> => {
    const results = await Promise.all(calls);
    const failed = results.filter((r) => r.outcome !== 'ok');
    const outcome: RegistryOutcome = failed.length === 0 ? 'ok' : failed.some((r) => r.outcome === 'timeout') ? 'timeout' : 'error';
    const errors = failed.flatMap((r) => (r.error ? [r.error] : []));
    const entries = results.flatMap((r) => (r.entry === undefined ? [] : [`${r.registry} ${r.entry}`]));
    return {
      registry: name,
      operation,
      outcome,
      durationMs: Math.max(0, ...results.map((r) => r.durationMs)),
      entry: entries.length === 0 ? undefined : entries.join(', '),
      error: errors.length <= 1 ? errors[0] : new AggregateError(errors, `${operation} failed in ${failed.map((r) => r.registry).join(' and ')}`),
    };
  };
  return {
    name,
    get state(): RegistryState {
      const states = registries.map((r) => r.state);
      if (states.every((s) => s === states[0])) return states[0]!;
      return states.includes('registering') ? 'registering' : states[0]!;
    },
    register: (instance?: ServiceInstance, options?: RegistryCallOptions) =>
      all(
        registries.map((r) => r.register(instance, options)),
        'register',
      ),
    deregister: (options?: RegistryCallOptions) =>
      all(
        registries.map((r) => r.deregister(options)),
        'deregister',
      ),
    close: (options?: RegistryCallOptions) =>
      all(
        registries.map((r) => r.close(options)),
        'close',
      ),
  };
}
