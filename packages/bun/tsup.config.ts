import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts'],
  format: ['esm'],
  // Neutral, with node: modules external: Bun.serve through the Bun global, and Bun's own node:net /
  // node:http only for a socket inherited by the systemd protocol (src/internal/serve-inherited.ts).
  platform: 'neutral',
  external: [/^node:/],
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
});
