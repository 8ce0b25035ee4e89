// The deployment files of apps/example/deploy: systemd units that systemd-analyze accepts, and
// timeouts that agree with the shutdown deadline in every service manager.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, describe, expect, it } from 'vitest';

const deploy = fileURLToPath(new URL('../../../apps/example/deploy/', import.meta.url));
const read = (name: string): string => readFileSync(join(deploy, name), 'utf8');
const UNITS = ['quiesce-example.socket', 'quiesce-example.service', 'quiesce-example-run.service'];

/** `Key=value` lines of a unit's [Service] section (the last one of a key wins, as in systemd). */
function serviceKeys(unit: string): Map<string, string> {
  const keys = new Map<string, string>();
  let section = '';
  for (const line of unit.split('\n')) {
    const header = /^\[(\w+)\]$/.exec(line.trim());
    if (header) section = header[1]!;
    else if (section === 'Service' && /^\w+=/.test(line)) keys.set(line.slice(0, line.indexOf('=')), line.slice(line.indexOf('=') + 1));
  }
  return keys;
}

/** QUIESCE_DEADLINE_MS from an `Environment=` line. */
function deadlineMs(unit: string): number {
  return Number(/QUIESCE_DEADLINE_MS=(\d+)/.exec(serviceKeys(unit).get('Environment') ?? '')?.[1]);
}

describe('apps/example/deploy: the managers wait longer than the shutdown deadline', () => {
  it('systemd Type=notify: NotifyAccess=all (systemd-notify), KillMode=mixed, TimeoutStopSec above QUIESCE_DEADLINE_MS, socket-activated', () => {
    const unit = read('quiesce-example.service');
    const keys = serviceKeys(unit);
    expect(keys.get('Type')).toBe('notify');
    expect(keys.get('NotifyAccess')).toBe('all');
    expect(keys.get('KillMode')).toBe('mixed');
    expect(Number(keys.get('TimeoutStopSec')) * 1_000).toBeGreaterThan(deadlineMs(unit));
    expect(unit).toMatch(/^Requires=quiesce-example\.socket$/m);
    expect(read('quiesce-example.socket')).toMatch(/^FileDescriptorName=http$/m);
  });

  it('systemd Type=notify-reload for quiesce run: deadline < --stop-timeout < TimeoutStopSec, KillMode=mixed', () => {
    const unit = read('quiesce-example-run.service');
    const keys = serviceKeys(unit);
    expect(keys.get('Type')).toBe('notify-reload');
    expect(keys.get('NotifyAccess')).toBe('all');
    expect(keys.get('KillMode')).toBe('mixed');
    const stopTimeout = Number(/--stop-timeout (\d+)/.exec(keys.get('ExecStart') ?? '')?.[1]);
    expect(stopTimeout).toBeGreaterThan(deadlineMs(unit));
    expect(Number(keys.get('TimeoutStopSec')) * 1_000).toBeGreaterThan(stopTimeout);
  });

  it('Dockerfile: STOPSIGNAL SIGTERM, the exec form, and a stop timeout above the deadline in its instructions', () => {
    const dockerfile = read('Dockerfile');
    expect(dockerfile).toMatch(/^STOPSIGNAL SIGTERM$/m);
    expect(dockerfile).toMatch(/^CMD \["node", "apps\/example\/dist\/server\.js"\]$/m);
    expect(dockerfile).toContain('docker run --init');
    const deadline = Number(/QUIESCE_DEADLINE_MS=(\d+)/.exec(dockerfile)?.[1]);
    expect(Number(/--stop-timeout (\d+)/.exec(dockerfile)?.[1]) * 1_000).toBeGreaterThan(deadline);
  });

  it('Kubernetes: terminationGracePeriodSeconds above the deadline, and an init (shareProcessNamespace)', () => {
    const manifest = read('kubernetes.yaml');
    const deadline = Number(/name: QUIESCE_DEADLINE_MS\s+value: "(\d+)"/.exec(manifest)?.[1]);
    expect(Number(/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]) * 1_000).toBeGreaterThan(deadline);
    expect(manifest).toMatch(/^ {6}shareProcessNamespace: true$/m);
  });

  it('PM2: wait_ready, and kill_timeout above the deadline', () => {
    const { apps } = createRequire(import.meta.url)(join(deploy, 'ecosystem.config.cjs')) as {
      apps: { wait_ready: boolean; kill_timeout: number; env: Record<string, string> }[];
    };
    expect(apps[0]!.wait_ready).toBe(true);
    expect(apps[0]!.kill_timeout).toBeGreaterThan(Number(apps[0]!.env['QUIESCE_DEADLINE_MS']));
  });
});

const analyze = spawnSync('systemd-analyze', ['--version'], { encoding: 'utf8' });
const systemdVersion = analyze.status === 0 ? Number(/^systemd (\d+)/.exec(analyze.stdout)?.[1]) : undefined;
/** Type=notify-reload and ReloadSignal= came with systemd 253. */
const knowsNotifyReload = systemdVersion !== undefined && systemdVersion >= 253;

const dirs: string[] = [];
afterAll(() => {
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true });
});

/**
 * Runs `systemd-analyze verify` on copies of the units, with the runtime path replaced by this
 * machine's node (verify checks that ExecStart's program exists). Returns every line it printed.
 */
function verify(edit: (name: string, text: string) => string = (_name, text) => text): string[] {
  const dir = mkdtempSync(join(tmpdir(), 'quiesce-units-'));
  dirs.push(dir);
  for (const name of UNITS) {
    writeFileSync(join(dir, name), edit(name, read(name).replaceAll('/usr/bin/node', process.execPath)));
  }
  const result = spawnSync('systemd-analyze', ['verify', '--man=no', ...UNITS.map((name) => join(dir, name))], { encoding: 'utf8' });
  return `${result.stdout}${result.stderr}`.split('\n').filter((line) => line.trim() !== '');
}

const withAnalyze = systemdVersion !== undefined ? describe : describe.skip;
withAnalyze(`systemd-analyze verify (systemd ${systemdVersion ?? 'not installed'})`, () => {
  if (knowsNotifyReload) {
    it('accepts every unit file as it is, without a warning', () => {
      expect(verify()).toEqual([]);
    });
  } else {
    it(`accepts every unit file, quiesce-example-run.service checked as Type=notify (skipped as it is: systemd ${systemdVersion} predates Type=notify-reload, 253)`, () => {
      expect(verify((name, text) => (name === 'quiesce-example-run.service' ? text.replace(/^Type=notify-reload$/m, 'Type=notify') : text))).toEqual([]);
    });

    it(`pins: systemd-analyze ${systemdVersion} does not know Type=notify-reload (red once it does: then verify the unit as it is)`, () => {
      expect(verify()).toEqual([expect.stringMatching(/quiesce-example-run\.service:\d+: Failed to parse service type, ignoring: notify-reload$/)]);
    });
  }

  it('would report a mistake (the check is not blind)', () => {
    const lines = verify((name, text) => (name === 'quiesce-example.service' ? text.replace(/^KillMode=mixed$/m, 'KillMode=mixd') : text));
    expect(lines).toContainEqual(expect.stringMatching(/quiesce-example\.service:\d+: Failed to parse kill mode specification, ignoring: mixd$/));
  });
});
