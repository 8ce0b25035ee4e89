import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'test-support',
    include: ['src/**/*.test.ts'],
    // Real child processes on a noisy 2-core box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
  },
});
