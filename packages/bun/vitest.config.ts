import { defineProject } from 'vitest/config';

// Unit tests only, on Node; the behaviour on Bun is tested in packages/conformance (fetch-adapters.test.ts).
export default defineProject({
  test: { name: 'bun', include: ['src/**/*.test.ts'] },
});
