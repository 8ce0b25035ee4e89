// Credentials in a command line never reach the supervisor's log or a port diagnosis (and so an
// EADDRINUSE message): both show command lines, the supervised command's and the port holder's.
import { afterAll, describe, expect, it } from 'vitest';
import { diagnosePort, formatPortDiagnosis } from './port-diagnosis.ts';
import { fixture, killAll, startChild } from './test-support/processes.ts';

const SECRET = 'Sup3rS3cret-lz';
afterAll(() => killAll());

/** A Node child listening on a free 127.0.0.1 port, with `args` on its command line. */
async function freePortHolder(args: readonly string[]): Promise<{ port: number; pid: number; stop(): void }> {
  const script = "const s = require('node:net').createServer().listen(0, '127.0.0.1', () => console.log('port ' + s.address().port));";
  const child = startChild([process.execPath, '-e', script, '--', ...args]);
  const line = await child.waitForLine(/^port \d+$/);
  return { port: Number(line.slice(5)), pid: child.pid, stop: () => child.process.kill('SIGKILL') };
}

describe('credentials in command lines are redacted', () => {
  it("quiesce run's `generation started` line", async () => {
    const sup = startChild([
      process.execPath,
      fixture('run-cli.mjs'),
      'run',
      '--listen',
      '127.0.0.1:0',
      '--ready-timeout',
      '60000',
      '--',
      process.execPath,
      '-e',
      'setInterval(() => {}, 1000)',
      `postgres://app:${SECRET}@db:5432/app`,
      `--token=${SECRET}`,
    ]);
    const line = await sup.waitForLine(/started: /);
    sup.process.kill('SIGTERM');
    await sup.exited;
    expect(line).toContain('postgres://***@db:5432/app --token=***');
    expect(sup.lines.join('\n')).not.toContain(SECRET);
  });

  it("the port holder's command line in a diagnosis", async () => {
    const holder = await freePortHolder([`--password=${SECRET}`, `https://u:${SECRET}@example.com/`]);
    try {
      const diagnosis = await diagnosePort(holder.port);
      const text = formatPortDiagnosis(diagnosis);
      expect(text).toContain(`held by pid ${holder.pid}`);
      expect(text).toContain('--password=*** https://***@example.com/');
      expect(JSON.stringify(diagnosis)).not.toContain(SECRET);
    } finally {
      holder.stop();
    }
  });
});
