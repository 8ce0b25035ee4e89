import { defineConfig } from 'tsup';

export default defineConfig({
  entry: ['src/index.ts', 'src/node.ts', 'src/bun.ts', 'src/deno.ts', 'src/listener.ts', 'src/testing.ts'],
  format: ['esm'],
  platform: 'neutral',
  target: 'es2022',
  dts: true,
  clean: true,
  sourcemap: true,
  // The small packages stay separate modules so that an app never loads two copies of them.
  external: [/^@quiesce\//],
});
