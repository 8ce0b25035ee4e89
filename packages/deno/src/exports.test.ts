import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

describe('@quiesce/deno public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "DenoAdapterOptionError",
        "DenoRuntimeError",
        "DenoUnsupportedOptionError",
        "DenoWebSocketUnsupportedError",
        "serveDeno",
        "upgradeWebSocket",
      ]
    `);
  });
});
