import { describe, expect, it } from 'vitest';
import { capabilities, nodeCapabilities } from './capabilities.ts';

describe('nodeCapabilities', () => {
  it.each([
    ['20.19.0', false],
    ['20.20.2', false],
    ['22.11.0', false],
    ['22.12.0', true],
    ['23.0.0', false],
    ['23.1.0', true],
    ['24.0.0', true],
    ['26.12.1', true],
  ])('reusePort on Node %s: %s (22.12 and 23.1 added it; before, Node ignores it silently)', (version, expected) => {
    expect(nodeCapabilities(version).reusePort).toBe(expected);
  });

  it.each([
    ['20.20.2', false],
    ['22.18.0', false],
    ['22.19.0', true],
    ['24.0.0', true],
    ['26.12.1', true],
  ])('keepAliveTimeoutBuffer on Node %s: %s', (version, expected) => {
    expect(nodeCapabilities(version).keepAliveTimeoutBuffer).toBe(expected);
  });

  it('http2 close() sends GOAWAY from Node 24; close() closes never-used connections from Node 26', () => {
    expect([22, 23, 24, 26].map((major) => nodeCapabilities(`${major}.0.0`).http2CloseSendsGoaway)).toEqual([false, false, true, true]);
    expect([20, 22, 24, 26].map((major) => nodeCapabilities(`v${major}.1.0`).closeIdleClosesFreshConnections)).toEqual([
      false,
      false,
      false,
      true,
    ]);
  });

  it('Node reports socket counts, sees silent connections, serves inherited sockets and answers a partial head', () => {
    expect(nodeCapabilities('20.19.0')).toMatchObject({
      runtime: 'node',
      version: '20.19.0',
      reportsSocketCounts: true,
      seesSilentConnections: true,
      servesInheritedSocket: true,
      answersPartialHeadOnShutdown: true,
    });
  });
});

describe('capabilities', () => {
  it('of Bun and Deno at the installed versions: no socket counts, no native inherited socket; Bun misses silent connections, Deno partial heads', () => {
    expect(capabilities('bun')).toMatchObject({ runtime: 'bun', reportsSocketCounts: false, seesSilentConnections: false, servesInheritedSocket: false, answersPartialHeadOnShutdown: true, reusePort: true });
    expect(capabilities('deno')).toMatchObject({ runtime: 'deno', reportsSocketCounts: false, seesSilentConnections: true, servesInheritedSocket: false, answersPartialHeadOnShutdown: false, reusePort: true });
    expect(capabilities('bun').version).toMatch(/^1\.\d+\.\d+$/);
    expect(capabilities('deno').version).toMatch(/^2\.\d+\.\d+$/);
  });

  it('HTTP/2: Node and Deno serve it, Bun.serve does not; only Deno serves streams opened between the two GOAWAYs, and drops a connection whose client answers its GOAWAY', () => {
    const pick = (runtime: 'node' | 'bun' | 'deno') => {
      const { servesHttp2, http2ServesStreamsAfterNotice, http2ClientGoawayDropsStreams } = capabilities(runtime);
      return [servesHttp2, http2ServesStreamsAfterNotice, http2ClientGoawayDropsStreams];
    };
    expect(pick('node')).toEqual([true, false, false]);
    expect(pick('bun')).toEqual([false, false, false]);
    expect(pick('deno')).toEqual([true, true, true]);
  });

  it('of node are those of the Node under test', () => {
    expect(capabilities('node')).toEqual(nodeCapabilities(capabilities('node').version));
  });
});
