import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import * as listener from './listener.ts';
import * as node from './node.ts';
import * as testing from './testing.ts';

describe('quiesce public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "ConnectionTracker",
        "Deadline",
        "DeadlineExceededError",
        "InvalidOptionError",
        "LifecycleOptionError",
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

  it('quiesce/testing exports exactly these names', () => {
    expect(Object.keys(testing).sort()).toMatchInlineSnapshot(`
      [
        "ManualClock",
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
        "ReusePortUnsupportedError",
        "SupervisorError",
        "acquire",
        "asAddressInUseError",
        "diagnosePort",
        "formatPortDiagnosis",
        "hotRestart",
        "inheritedListeners",
        "reportReady",
        "runCli",
        "runSupervisor",
      ]
    `);
  });
});
