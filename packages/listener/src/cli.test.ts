import { type Server, createServer } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { fixturesBeside, get, killAllChildren, listeningSocket, startChild } from '@quiesce/test-support';
import { CLI_USAGE, runCli } from './cli.ts';

const fixture = fixturesBeside(import.meta.url);

const servers: Server[] = [];
afterEach(async () => {
  for (const server of servers.splice(0)) if (server.listening) await new Promise((resolve) => server.close(resolve));
  await killAllChildren();
});

async function cli(argv: readonly string[]): Promise<{ code: number; stdout: string; stderr: string }> {
  let stdout = '';
  let stderr = '';
  const code = await runCli(argv, { stdout: (text) => (stdout += text), stderr: (text) => (stderr += text) });
  return { code, stdout, stderr };
}

describe('quiesce port <port>', () => {
  it('names the holder (pid, command line) and the states, and exits 1 while something listens', async () => {
    const holder = await listeningSocket();
    servers.push(holder.server);
    const { code, stdout, stderr } = await cli(['port', String(holder.port)]);
    expect(code).toBe(1);
    expect(stderr).toBe('');
    expect(stdout).toMatch(new RegExp(`^port ${holder.port}: in use \\(LISTEN 1\\)\\n  held by pid ${process.pid}: \\S`));
    expect(stdout).toContain(`kill ${process.pid}`);
  });

  it('prints the same diagnosis from the command line for a server in another process', async () => {
    const server = startChild([process.execPath, fixture('adopt-server.mjs')]);
    const port = (JSON.parse((await server.waitForLine(/^acquired /)).slice('acquired '.length)) as { listener: { port: number } }).listener.port;
    expect((await get(port)).pid).toBe(server.pid);
    const run = startChild([process.execPath, fixture('run-cli.mjs'), 'port', String(port)]);
    expect((await run.exited).code).toBe(1);
    expect(run.stdout[0]).toMatch(new RegExp(`^port ${port}: in use \\(LISTEN 1`));
    expect(run.stdout[1]).toBe(`  held by pid ${server.pid}: ${process.execPath} ${fixture('adopt-server.mjs')}`);
    expect(run.stdout.join('\n')).toMatch(/advice:/);
  });

  it('says a port is free and exits 0', async () => {
    const probe = createServer();
    await new Promise<void>((resolve) => probe.listen(0, '127.0.0.1', resolve));
    const { port } = probe.address() as { port: number };
    await new Promise((resolve) => probe.close(resolve));
    const { code, stdout } = await cli(['port', String(port)]);
    expect(code).toBe(0);
    expect(stdout).toMatch(new RegExp(`^port ${port}: free`));
  });

  it.each([[['port']], [['port', 'http']], [['port', '0']], [['port', '70000']], [['port', '80', '81']]])('refuses %j with the usage and exit 2', async (argv) => {
    const { code, stdout, stderr } = await cli(argv);
    expect(code).toBe(2);
    expect(stdout).toBe('');
    expect(stderr).toMatch(/^quiesce: port needs one port number from 1 to 65535/);
    expect(stderr).toContain(CLI_USAGE);
  });
});

describe('quiesce command line', () => {
  it('prints the usage for --help, and exit 2 for no or an unknown command', async () => {
    expect(await cli(['--help'])).toEqual({ code: 0, stdout: CLI_USAGE, stderr: '' });
    expect((await cli([])).stderr).toMatch(/^quiesce: missing command/);
    const unknown = await cli(['serve']);
    expect(unknown.code).toBe(2);
    expect(unknown.stderr).toMatch(/^quiesce: unknown command "serve"/);
  });

  it.each([
    [['run', '--listen', '127.0.0.1:0', 'node', 'app.js'], /run needs "--" before the command/],
    [['run', '--listen', '127.0.0.1:0', '--'], /run needs a command after "--"/],
    [['run', '--', 'node', 'app.js'], /Invalid listen: \[\]\. Expected at least one address to bind: no socket was inherited/],
    [['run', '--listen', 'localhost', '--', 'node'], /Invalid --listen: "localhost"/],
    [['run', '--listen', '--', 'node'], /Invalid --listen: "--"|--listen needs/],
    [['run', '--listen=127.0.0.1:99999', '--', 'node'], /Invalid --listen: "127\.0\.0\.1:99999"/],
    [['run', '--listen', ':0', '--ready-timeout', 'soon', '--', 'node'], /--ready-timeout needs a whole number of milliseconds/],
    [['run', '--listen', ':0', '--stop-timeout=0', '--', 'node'], /--stop-timeout needs a whole number of milliseconds/],
    [['run', '--listen', ':0', '--settle', '-1', '--', 'node'], /--settle needs a whole number of milliseconds ≥ 0/],
    [['run', '--listen', ':0', '--verbose', '--', 'node'], /unknown option "--verbose"/],
  ])('refuses run %j with the usage and exit 2', async (argv, message) => {
    const { code, stderr } = await cli(argv);
    expect(code).toBe(2);
    expect(stderr).toMatch(message);
    expect(stderr).toContain('usage:');
  });
});
