// `npm start`: runs the example graceful server on Node (apps/example, built by `npm run build`).
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';

const server = new URL('../apps/example/dist/server.js', import.meta.url);
if (!existsSync(new URL('../apps/example/package.json', import.meta.url))) {
  console.log('apps/example does not exist yet: the example graceful server arrives with a later issue.');
  process.exit(0);
}
if (!existsSync(server)) {
  console.log('Building the example first (npm run build)...');
}
