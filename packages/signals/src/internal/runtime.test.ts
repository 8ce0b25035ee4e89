import { describe, expect, it } from 'vitest';
import { detectRuntime } from './detect-runtime.ts';
import { platformOf } from './runtime.ts';

describe('runtime detection', () => {
  it('uses the BSD numbering on macOS and the BSDs, Linux numbering elsewhere', () => {
    expect(platformOf('darwin')).toBe('darwin');
    expect(platformOf('freebsd')).toBe('darwin');
    expect(platformOf('openbsd')).toBe('darwin');
    expect(platformOf('linux')).toBe('linux');
    expect(platformOf('win32')).toBe('linux');
    expect(platformOf(undefined)).toBe('linux');
  });

  it('finds process-style signals under Node, the test runner', () => {
    const runtime = detectRuntime();
    expect(runtime.name).toBe('process');
    expect(['linux', 'darwin']).toContain(runtime.platform);
  });
});
