// The event channels on real Node, Bun and Deno children running src/fixtures/channel-probe.mjs
// against the BUILT package (dist/). Deno runs with no permission flag: publishing needs none.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const packageDir = fileURLToPath(new URL('../', import.meta.url));
const repoRoot = fileURLToPath(new URL('../../../', import.meta.url));
const probe = fileURLToPath(new URL('./fixtures/channel-probe.mjs', import.meta.url));

const runtimes = [
  { name: 'node', command: process.execPath, args: [probe] },
  { name: 'bun', command: join(repoRoot, 'node_modules', '.bin', 'bun'), args: [probe] },
  { name: 'deno', command: join(repoRoot, 'node_modules', '.bin', 'deno'), args: ['run', '--quiet', '--no-prompt', probe] },
] as const;

async function probeOn(runtime: (typeof runtimes)[number], scenario: string): Promise<{ steps: Record<string, unknown>; got: unknown[] }> {
  const { stdout } = await run(runtime.command, [...runtime.args, scenario], {
    cwd: packageDir,
    env: { ...process.env, DENO_NO_UPDATE_CHECK: '1', NO_COLOR: '1' },
    timeout: 30_000,
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!);
}

describe.each(runtimes)('event channels on $name', (runtime) => {
  it('reach a node:diagnostics_channel subscriber by name, only while subscribed, and hasSubscribers follows', async () => {
    const { steps, got } = await probeOn(runtime, 'present');
    expect(steps).toEqual({
      before: false,
      afterSubscribeByName: true,
      moduleHasSubscribers: true,
      afterUnsubscribeByName: false,
      subscribed: true,
      afterOwnSubscribe: true,
      unsubscribed: true,
      afterOwnUnsubscribe: false,
      sharedByName: true,
    });
    expect(got).toEqual([{ n: 1, name: 'quiesce:shutdown:end' }, { n: 3 }]);
  }, 40_000);

  it('pins: a subscriber that throws neither stops the publisher nor the other subscribers; the error surfaces as uncaught', async () => {
    const { steps } = await probeOn(runtime, 'throwing');
    expect(steps).toEqual({ before: false, publishReturned: true, laterSubscriberGot: 1, uncaught: 'subscriber bug' });
  }, 40_000);

  it('stay silent without diagnostics_channel: nothing is published and subscribe says false', async () => {
    const { steps, got } = await probeOn(runtime, 'absent');
    expect(steps).toEqual({ before: false, subscribed: false, after: false });
    expect(got).toEqual([]);
  }, 40_000);
});
