import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

describe('conformance harness API', () => {
  it('exports exactly these names (suites are written against them)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "AmbiguousFailure",
        "ClientStalledError",
        "ConnectFailure",
        "ConnectionClosedError",
        "HarnessOptionError",
        "LineTimeoutError",
        "ProtocolFailure",
        "RUNTIMES",
        "RefusedFailure",
        "RuntimeMissingError",
        "ServerStartError",
        "assertClientKeptUp",
        "fixturePath",
        "killAllServers",
        "openConnection",
        "repoRoot",
        "runFreshConnectionLoad",
        "runKeepAliveLoad",
        "runtimeBinary",
        "runtimeCommand",
        "startServer",
      ]
    `);
  });
});
