// Statements of the root README about other files of the repository, checked against those files:
// the Kubernetes manifest's timing and the command CI installs with.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './workspace.ts';

const readme = readFileSync(join(repoRoot, 'README.md'), 'utf8');
/** The lines that are not comments. */
const code = (text: string): string[] => text.split('\n').filter((line) => !/^\s*#/.test(line));

describe('the root README says what the Kubernetes manifest does', () => {
  const manifest = code(readFileSync(join(repoRoot, 'apps/example/deploy/kubernetes.yaml'), 'utf8')).join('\n');
  const row = readme.split('\n').find((line) => line.startsWith('| Kubernetes |')) ?? '';
  const envValue = (name: string): string | undefined => new RegExp(`name: ${name}\\s+value: "(\\d+)"`).exec(manifest)?.[1];

  it('names its lame duck and deadline, and whether it has a preStop hook', () => {
    expect(row).toContain(`QUIESCE_LAME_DUCK_MS=${envValue('QUIESCE_LAME_DUCK_MS')}`);
    expect(row).toContain(`QUIESCE_DEADLINE_MS=${envValue('QUIESCE_DEADLINE_MS')}`);
    if (/^\s*preStop:/m.test(manifest)) expect(row).toMatch(/preStop/);
    else expect(row).toContain('no `preStop` hook');
  });

  it('names its grace period and readiness path', () => {
    expect(row).toContain(`terminationGracePeriodSeconds: ${/terminationGracePeriodSeconds: (\d+)/.exec(manifest)?.[1]}`);
    expect(manifest).toMatch(/readinessProbe:\s+httpGet:\s+path: \/readyz/);
    expect(row).toContain('readiness on `/readyz`');
  });
});

describe('the root README says what CI runs', () => {
  it('installs with the command .ci/run runs, then runs npm test', () => {
    const run = code(readFileSync(join(repoRoot, '.ci/run'), 'utf8')).map((line) => line.trim());
    const install = run.find((line) => /^npm (ci|install)\b/.test(line))?.split(' ').slice(0, 2).join(' ');
    expect(run).toContain('npm test 2>&1 | tee "$log"');
    expect(readme).toContain(`CI runs \`bash .ci/run\`: \`${install}\``);
  });
});
