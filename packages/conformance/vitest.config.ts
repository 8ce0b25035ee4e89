import { defineProject } from 'vitest/config';

export default defineProject({
  test: {
    name: 'conformance',
    include: ['src/**/*.test.ts'],
    // Real child processes and socket load: generous bounds for a noisy 2-core box.
    testTimeout: 30_000,
    hookTimeout: 30_000,
    // Socket-load tests share two cores badly with each other; files run one at a time.
    fileParallelism: false,
    // A load run that lost requests while its own client could not run for 100 ms or more says
    // nothing about the server (assertClientKeptUp throws ClientStalledError): run the test again.
    // A server fault fails again; only that error is retried.
    retry: { count: 2, condition: /QUIESCE_CONFORMANCE_CLIENT_STALLED/ },
  },
});
