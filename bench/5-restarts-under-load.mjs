#!/usr/bin/env node
// Part 5 — restarts under load. The measurement lives with the listener it measures
// (packages/listener/bench/restarts.mjs): keep-alive and fresh-connection clients on loopback while a
// server restarts several times — Quiesce's Node self-restart on SIGUSR2, `quiesce run` + SIGHUP on
// Node, Bun and Deno — against restarts that close idle sockets at once; it prints failed requests
// per restart and mode. Not yet compared here: a naive stop-then-start and Node `cluster` worker
// replacement as PM2 does it, and no JSON result file is written yet.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

const smoke = process.argv.includes('--smoke');
const script = fileURLToPath(new URL('../packages/listener/bench/restarts.mjs', import.meta.url));
const args = smoke ? ['--restarts', '2', '--interval-ms', '500', '--modes', 'hot-node,run-node'] : [];
const run = spawnSync(process.execPath, [script, ...args], { stdio: 'inherit' });
process.exit(run.status ?? 1);
