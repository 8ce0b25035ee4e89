import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

describe('@quiesce/drain public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "ConnectionTracker",
        "DrainOptionError",
        "REFUSED_UPGRADE_HTTP",
        "REFUSED_UPGRADE_RETRY_AFTER_S",
        "ResponseGate",
        "WEBSOCKET_GOING_AWAY",
        "WEBSOCKET_SERVICE_RESTART",
        "WebSocketFarewell",
        "createFetchAdapter",
        "isUpgradeRequest",
        "lameDuck",
        "refusedUpgradeResponse",
        "webSocketCloseCode",
        "withConnectionClose",
      ]
    `);
  });
});
