import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { ServerStartError, killAllChildren, startServer } from '@quiesce/test-support';
import { exampleTargets } from './targets.ts';

// No password, token or URL credential the example is configured with ever reaches its output:
// the real example process on each runtime, with the registry variables set, stdout and stderr
// scanned whole — at start, when registration fails, and in the shutdown report.

afterAll(() => killAllChildren());
afterEach(() => killAllChildren());

const SECRET = 'Sup3rS3cret-qz';
/** Nothing listens on port 1: every registry call fails at once, and says so in a log line. */
const REFUSED = 'http://127.0.0.1:1';

const scenarios: { name: string; env: Record<string, string>; starts: boolean }[] = [
  { name: 'URL credentials in ETCD_ENDPOINTS (refused at start)', env: { ETCD_ENDPOINTS: `http://root:${SECRET}@127.0.0.1:2379` }, starts: false },
  { name: 'URL credentials in one of several ETCD_ENDPOINTS', env: { ETCD_ENDPOINTS: `${REFUSED},http://root:${SECRET}@127.0.0.1:2379` }, starts: false },
  { name: 'a token in the CONSUL_HTTP_ADDR query (refused at start)', env: { CONSUL_HTTP_ADDR: `${REFUSED}/?token=${SECRET}` }, starts: false },
  { name: 'ETCD_PASSWORD without ETCD_USERNAME (refused at start)', env: { ETCD_ENDPOINTS: REFUSED, ETCD_PASSWORD: SECRET }, starts: false },
  { name: 'ETCD_PASSWORD with an unreachable etcd', env: { ETCD_ENDPOINTS: REFUSED, ETCD_USERNAME: 'root', ETCD_PASSWORD: SECRET }, starts: true },
  { name: 'CONSUL_HTTP_TOKEN with an unreachable agent', env: { CONSUL_HTTP_ADDR: REFUSED, CONSUL_HTTP_TOKEN: SECRET }, starts: true },
];

describe.each(exampleTargets)('example server on $runtime: secrets never in its output', ({ runtime, script }) => {
  it.each(scenarios)('$name', async ({ env, starts }) => {
    let output: string;
    let exitCode: number | null;
    try {
      const server = await startServer({ runtime, script, env: { QUIESCE_DEADLINE_MS: '3000', ...env } });
      // Registration is tried after the listening line: refused at once (nothing listens), or the
      // variables are refused and the process exits 2. Either way a line says so; then stop it.
      await server.waitForLine(/registered in|is invalid/, 10_000).catch(() => undefined);
      if (server.exitStatus === undefined) server.kill('SIGTERM');
      exitCode = (await server.exited).code;
      output = [...server.stdout, ...server.stderr].join('\n');
    } catch (error) {
      if (!(error instanceof ServerStartError) || error.reason !== 'exited') throw error;
      output = [...error.stdout, ...error.stderr].join('\n');
      exitCode = null;
    }
    if (starts) expect(output).toMatch(/quiesce: shutdown/);
    else {
      expect(output).toMatch(/quiesce-example: [A-Z_]+=.* is invalid/);
      if (exitCode !== null) expect(exitCode).toBe(2);
    }
    expect(output).not.toContain(SECRET);
  });
});
