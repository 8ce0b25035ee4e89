import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

describe('@quiesce/listener public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
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
        "listenForStopRequests",
        "reportReady",
        "runCli",
        "runSupervisor",
        "warnIfPidOne",
      ]
    `);
  });
});
