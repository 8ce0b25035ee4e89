import { defineProject } from 'vitest/config';

// Unit tests only, on Node; the behaviour on Deno is tested in packages/conformance (fetch-adapters.test.ts).
export default defineProject({
  test: { name: 'deno', include: ['src/**/*.test.ts'] },
});
