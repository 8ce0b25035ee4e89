import { defineConfig } from 'tsup';

export default defineConfig({
  // `testing` is its own entry so that ManualClock never ends up in a production bundle.
  entry: ['src/index.ts', 'src/testing.ts'],
  format: ['esm'],
  // Neutral: a stray `node:` import fails the build; core runs unchanged on Node, Bun and Deno.
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
});
