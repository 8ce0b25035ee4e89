import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'listener',
    include: ['src/**/*.test.ts'],
    // Real sockets, real child processes and real signals on a noisy 2-core box.
    testTimeout: 60_000,
    hookTimeout: 60_000,
    // Supervisor tests start process trees; one file at a time keeps them from starving each other.
    fileParallelism: false,
  },
});
