import { describe, expect, it } from 'vitest';
import * as api from './index.ts';
import * as testing from './testing.ts';

describe('@quiesce/core public API', () => {
  it('exports exactly these names (a change here is a change to the public API)', () => {
    expect(Object.keys(api).sort()).toMatchInlineSnapshot(`
      [
        "Deadline",
        "DeadlineExceededError",
        "InvalidOptionError",
        "describeError",
        "describeValue",
        "envReadPermitted",
        "eventChannel",
        "optionChecks",
        "quiesceChannels",
        "redactSecrets",
        "redactValue",
        "runtimePermits",
        "systemClock",
      ]
    `);
  });

  it('@quiesce/core/testing exports exactly these names', () => {
    expect(Object.keys(testing).sort()).toMatchInlineSnapshot(`
      [
        "ManualClock",
      ]
    `);
  });
});
