// Credentials in a command line never reach the supervisor's log or a port diagnosis (and so an
// EADDRINUSE message): both show command lines, the supervised command's and the port holder's.
import { afterAll, describe, expect, it } from 'vitest';
import { fixturesBeside, killAllChildren, runtimeBinary, runtimeCommand, startChild, startPortHolder } from '@quiesce/test-support';
import { diagnosePort, formatPortDiagnosis } from './port-diagnosis.ts';

const fixture = fixturesBeside(import.meta.url);
const SECRET = 'Sup3rS3cret-lz';
afterAll(() => killAllChildren());

describe('credentials in command lines are redacted', () => {
  it("quiesce run's `generation started` line", async () => {
    const sup = startChild(
      runtimeCommand('node', fixture('run-cli.mjs'), [
        'run',
        '--listen',
        '127.0.0.1:0',
        '--ready-timeout',
        '60000',
        '--',
        runtimeBinary('node'),
        '-e',
        'setInterval(() => {}, 1000)',
        `postgres://app:${SECRET}@db:5432/app`,
        `--token=${SECRET}`,
      ]),
    );
    const line = await sup.waitForLine(/started: /);
    sup.kill('SIGTERM');
    await sup.exited;
    expect(line).toContain('postgres://***@db:5432/app --token=***');
    expect(sup.lines.join('\n')).not.toContain(SECRET);
  });

  it("the port holder's command line in a diagnosis", async () => {
    const holder = await startPortHolder({ args: [`--password=${SECRET}`, `https://u:${SECRET}@example.com/`] });
    try {
      const diagnosis = await diagnosePort(holder.port);
      const text = formatPortDiagnosis(diagnosis);
      expect(text).toContain(`held by pid ${holder.pid}`);
      expect(text).toContain('--password=*** https://***@example.com/');
      expect(JSON.stringify(diagnosis)).not.toContain(SECRET);
    } finally {
      await holder.child.stop();
    }
  });
});
