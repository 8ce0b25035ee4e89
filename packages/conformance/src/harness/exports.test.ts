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
        "ProtocolFailure",
        "RefusedFailure",
        "assertClientKeptUp",
        "fixturePath",
        "openConnection",
        "openEventStream",
        "openWebSocket",
        "runFreshConnectionLoad",
        "runKeepAliveLoad",
      ]
    `);
  });
});
