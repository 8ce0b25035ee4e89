import { defineConfig } from 'vitest/config';

// One project per workspace package. `npm test` runs each package's own `vitest run` through turbo
// (after building its dependencies); `npx vitest` at the root runs them all in one process.
export default defineConfig({
  test: {
    projects: ['packages/*', 'apps/*'],
  },
});
