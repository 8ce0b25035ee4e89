import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  // Neutral: a stray `node:` import fails the build; the clients use fetch, AbortSignal and URL only.
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
  external: [/^@quiesce\//],
});
