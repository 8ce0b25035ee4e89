import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import * as listener from './listener.ts';
import * as node from './node.ts';

describe('quiesce public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "ConnectionTracker",
        "Deadline",
        "DeadlineExceededError",
        "LifecycleOptionError",
        "ManualClock",
        "RegistryEnvError",
        "RegistryOptionError",
        "SignalsOptionError",
        "createConsulRegistry",
        "createEtcdRegistry",
        "createLifecycle",
        "createShutdownHooks",
        "createSignalPolicy",
        "defaultExitCodes",
        "exitCodeFor",
        "formatShutdownReport",
        "lameDuck",
        "registryFromEnv",
        "signalNumber",
        "systemClock",
      ]
    `);
  });

  it('quiesce/node exports exactly these names', () => {
    expect(Object.keys(node).sort()).toMatchInlineSnapshot(`
      [
        "NodeAdapterOptionError",
        "createFetchListener",
        "createNodeAdapter",
      ]
    `);
  });

  it('quiesce/listener exports exactly these names', () => {
    expect(Object.keys(listener).sort()).toMatchInlineSnapshot(`
      [
        "AddressInUseError",
        "CLI_USAGE",
        "HotRestartError",
        "InheritedSocketError",
        "ListenerOptionError",
        "PID_ONE_WARNING",
        "ReusePortUnsupportedError",
        "SupervisorError",
        "acquire",
        "asAddressInUseError",
        "createServiceNotifier",
        "diagnosePort",
        "formatPortDiagnosis",
        "hotRestart",
        "inheritedListeners",
        "reportReady",
        "runCli",
        "runSupervisor",
        "warnIfPidOne",
      ]
    `);
  });
});
