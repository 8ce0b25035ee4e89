import { describe, expect, it } from 'vitest';
import * as api from './index.ts';

describe('@quiesce/drain public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "ConnectionTracker",
        "DrainOptionError",
        "ResponseGate",
        "createFetchAdapter",
        "lameDuck",
        "withConnectionClose",
      ]
    `);
  });
});
