import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { repoRoot } from './runtimes.ts';

interface Manifest {
  name: string;
  engines?: { node?: string };
  workspaces?: string[];
  optionalDependencies?: Record<string, string>;
}
const read = (dir: string): Manifest => JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as Manifest;
const root = read(repoRoot());
const workspaceDirs = (root.workspaces ?? []).flatMap((pattern) =>
  pattern.endsWith('/*')
    ? readdirSync(join(repoRoot(), pattern.slice(0, -2))).map((name) => join(repoRoot(), pattern.slice(0, -2), name))
    : [join(repoRoot(), pattern)],
);

describe('the supported Node range', () => {
  it('is the same in every workspace package as at the root (the range CI tests: npm test and npm run test:node-lines)', () => {
    const ranges = workspaceDirs
      .filter((dir) => existsSync(join(dir, 'package.json')))
      .map((dir) => [read(dir).name, read(dir).engines?.node]);
    expect(ranges.length).toBeGreaterThan(10);
    expect(ranges.filter(([, range]) => range !== root.engines?.node)).toEqual([]);
  });

  it('starts at a line the CI matrix tests: the machine Node (20) or an installed line (node22, node24, node26)', () => {
    expect(root.engines?.node).toMatch(/^>=\d+\.\d+$/);
    const lowest = Number(/^>=(\d+)/.exec(root.engines?.node ?? '')?.[1]);
    const lines = Object.keys(root.optionalDependencies ?? {}).flatMap((name) => /^node(\d+)$/.exec(name)?.[1] ?? []).map(Number);
    expect(lines).toEqual([22, 24, 26]);
    // .ci/run runs npm test on the machine's Node 20; node-lines --ci fails if nothing covers `lowest`.
    expect([20, ...lines]).toContain(lowest);
  });
});
