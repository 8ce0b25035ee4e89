// A real etcd for the tests: started on free loopback ports with a temporary data dir, stopped and
// deleted afterwards. No mock: every etcd assertion in this package talks to this process.
import { type ChildProcess, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './net.ts';

/** Debian's etcd-server package installs it here; ETCD_BIN overrides it. */
export const ETCD_BIN: string = process.env['ETCD_BIN'] ?? '/usr/bin/etcd';

const HEALTH_TIMEOUT_MS = 20_000;

export interface EtcdServer {
  /** The client URL, e.g. `http://127.0.0.1:41234`. */
  readonly endpoint: string;
  readonly clientPort: number;
  stop(): Promise<void>;
}

/** Fails loudly (never skips) when etcd is missing: these tests exist to run against a real one. */
export function assertEtcdInstalled(): void {
  if (!existsSync(ETCD_BIN)) {
    throw new Error(
      `etcd is not installed at ${ETCD_BIN}. The @quiesce/registry tests run against a real etcd: ` +
        'install it with `apt-get install -y etcd-server` (Debian/Ubuntu), or set ETCD_BIN to an etcd v3.4+ binary.',
    );
  }
}

/** Starts a single-member etcd; retries on a port taken between probing and binding. */
export async function startEtcd(extraArgs: readonly string[] = []): Promise<EtcdServer> {
  assertEtcdInstalled();
  let lastError: unknown;
  for (let attempt = 0; attempt < 3; attempt++) {
    try {
      return await startOnce(extraArgs);
    } catch (error) {
      lastError = error;
    }
  }
  throw lastError;
}

async function startOnce(extraArgs: readonly string[]): Promise<EtcdServer> {
  const clientPort = await freePort();
  const peerPort = await freePort();
  // /dev/shm when there is one: etcd fsyncs every write, which is slow on a busy disk.
  const base = existsSync('/dev/shm') ? '/dev/shm' : tmpdir();
  const dataDir = mkdtempSync(join(base, 'quiesce-etcd-'));
  const client = `http://127.0.0.1:${clientPort}`;
  const peer = `http://127.0.0.1:${peerPort}`;
  const child = spawn(
    ETCD_BIN,
    [
      '--name=quiesce-test',
      `--data-dir=${dataDir}`,
      `--listen-client-urls=${client}`,
      `--advertise-client-urls=${client}`,
      `--listen-peer-urls=${peer}`,
      `--initial-advertise-peer-urls=${peer}`,
      `--initial-cluster=quiesce-test=${peer}`,
      '--logger=zap',
      '--log-outputs=stderr',
      '--log-level=error',
      ...extraArgs,
    ],
    { stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let stderr = '';
  child.stderr?.setEncoding('utf8').on('data', (chunk: string) => {
    stderr = (stderr + chunk).slice(-4000);
  });
  const exited = new Promise<string>((resolve) => {
    child.once('exit', (code, signal) => resolve(`etcd exited early (code ${code}, signal ${signal}): ${stderr}`));
    child.once('error', (error) => resolve(`etcd could not start: ${error.message}`));
  });
  const server: EtcdServer = { endpoint: client, clientPort, stop: () => stopEtcd(child, dataDir) };
  const healthy = waitHealthy(client, child);
  const outcome = await Promise.race([healthy.then(() => undefined), exited]);
  if (outcome !== undefined) {
    await server.stop();
    throw new Error(outcome);
  }
  if (child.exitCode !== null) throw new Error(`etcd exited: ${stderr}`);
  return server;
}

async function waitHealthy(endpoint: string, child: ChildProcess): Promise<void> {
  const until = Date.now() + HEALTH_TIMEOUT_MS;
  let last = '';
  while (Date.now() < until && child.exitCode === null) {
    try {
      const response = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(1_000) });
      const body = (await response.json()) as { health?: string };
      if (body.health === 'true') return;
      last = JSON.stringify(body);
    } catch (error) {
      last = String(error);
    }
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill('SIGKILL');
  throw new Error(`etcd at ${endpoint} was not healthy within ${HEALTH_TIMEOUT_MS} ms (${last})`);
}

async function stopEtcd(child: ChildProcess, dataDir: string): Promise<void> {
  if (child.exitCode === null && child.signalCode === null) {
    const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
    child.kill('SIGTERM');
    const timer = setTimeout(() => child.kill('SIGKILL'), 5_000);
    await exited;
    clearTimeout(timer);
  }
  rmSync(dataDir, { recursive: true, force: true });
}
