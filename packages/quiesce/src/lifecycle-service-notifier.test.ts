import { once } from 'node:events';
import { createServer } from 'node:http';
import { ManualClock } from '@quiesce/core/testing';
import type { ServiceNotifier } from '@quiesce/listener';
import { createNodeAdapter } from '@quiesce/node';
import { describe, expect, it } from 'vitest';
import { LifecycleOptionError } from './errors.ts';
import { createLifecycle } from './lifecycle.ts';

/** A ServiceNotifier that records what the lifecycle tells it (the sd_notify side is tested in @quiesce/listener). */
function recorder(): { notifier: ServiceNotifier; calls: string[] } {
  const calls: string[] = [];
  const notifier: ServiceNotifier = {
    targets: { systemd: 'datagram', pm2: false, watchdogMs: undefined },
    ready: (status) => void calls.push(`ready ${status ?? ''}`.trim()),
    status: (text) => void calls.push(`status ${text}`),
    reloading: () => void calls.push('reloading'),
    stopping: (options) => void calls.push(`stopping ${options?.status} ${options?.timeLeftMs}`),
    phase: (name, timeLeftMs) => void calls.push(`phase ${name} ${timeLeftMs === undefined ? '' : 'with time left'}`.trim()),
    stopped: async (status) => void calls.push(`stopped ${status}`),
    handOver: (pid) => void calls.push(`handOver ${pid}`),
    flush: async () => {},
  };
  return { notifier, calls };
}

describe('createLifecycle tells the service manager', () => {
  it('ready once installed and serving (once), stopping with the whole deadline, each phase with the time left, stopped with the outcome', async () => {
    const server = createServer((_req, res) => res.end('ok'));
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const { notifier, calls } = recorder();
    const clock = new ManualClock();
    const lifecycle = createLifecycle({ adapter: createNodeAdapter(server), deadlineMs: 5_000, log: false, serviceNotifier: notifier, clock });
    try {
      lifecycle.install();
      lifecycle.install();
      // The ready moment is the one readiness reporting uses: the adapter serves and the signal
      // handlers are installed.
      await lifecycle.reportReady();
      expect(calls).toEqual(['ready']);
      const report = await lifecycle.shutdown('test');
      expect(calls[1]).toBe('stopping Shutting down (test) 5000');
      expect(calls.filter((c) => c.startsWith('phase ')).sort()).toEqual(
        ['phase cleanup with time left', 'phase deregister with time left', 'phase drain with time left', 'phase lame-duck with time left', 'phase stop-accepting with time left'].sort(),
      );
      expect(calls.at(-1)).toBe(`stopped Stopped: ${report.outcome}, exit code ${report.exitCode}`);
    } finally {
      lifecycle.uninstall();
      if (server.listening) server.close();
    }
  });

  it('refuses a serviceNotifier that is not one', () => {
    const server = createServer();
    expect(() => createLifecycle({ adapter: createNodeAdapter(server), serviceNotifier: {} as never })).toThrow(LifecycleOptionError);
  });
});
