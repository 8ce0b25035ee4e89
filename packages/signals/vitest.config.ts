import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'signals',
    include: ['src/**/*.test.ts'],
    // The runtime suite starts real Node, Bun and Deno children; give a loaded 2-core box room.
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});
