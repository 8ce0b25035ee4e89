import { describe, expect, it } from 'vitest';
import {
  AddressInUseError,
  HotRestartError,
  InheritedSocketError,
  ListenerOptionError,
  ReusePortUnsupportedError,
  SupervisorError,
} from './errors.ts';
import type { PortDiagnosis } from './port-diagnosis.ts';

const diagnosis: PortDiagnosis = {
  port: 3000,
  supported: true,
  sockets: [],
  states: {},
  holders: [],
  listening: false,
  unattributed: 0,
  ephemeral: false,
  summary: 'Nothing holds it now.',
  advice: [],
};

describe('error classes', () => {
  it.each([
    [new ListenerOptionError('port', -1, 'a port'), 'ListenerOptionError', 'QUIESCE_LISTENER_INVALID_OPTION'],
    [new AddressInUseError(3000, '::1', diagnosis, 0, diagnosis.summary), 'AddressInUseError', 'QUIESCE_ADDR_IN_USE'],
    [new ReusePortUnsupportedError('Node', '20.0.0'), 'ReusePortUnsupportedError', 'QUIESCE_REUSEPORT_UNSUPPORTED'],
    [new HotRestartError('no fd'), 'HotRestartError', 'QUIESCE_HOT_RESTART_UNSUPPORTED'],
    [new SupervisorError('no socket'), 'SupervisorError', 'QUIESCE_SUPERVISOR_FAILED'],
    [new InheritedSocketError(3, 'web', { cause: new Error('listen EINVAL') }), 'InheritedSocketError', 'QUIESCE_INHERITED_SOCKET_FAILED'],
  ])('%s has a name, a stable code and is an Error', (error, name, code) => {
    expect(error).toBeInstanceOf(Error);
    expect(error.name).toBe(name);
    expect(error.code).toBe(code);
  });

  it('keep their cause', () => {
    const cause = new Error('EADDRINUSE');
    expect(new AddressInUseError(3000, undefined, diagnosis, 0, '', { cause }).cause).toBe(cause);
    expect(new ListenerOptionError('port', 1, 'x', { cause }).cause).toBe(cause);
  });

  it('say what was wrong and what to do', () => {
    expect(new ListenerOptionError('port', '3000', 'a whole port number').message).toBe('Invalid port: "3000". Expected a whole port number.');
    expect(new AddressInUseError(3000, '::1', diagnosis, 1200, diagnosis.summary).message).toBe(
      'Cannot listen on [::1]:3000: address already in use (still taken after retrying for 1200 ms). Nothing holds it now.',
    );
    expect(new AddressInUseError(3000, undefined, diagnosis, 0, 'x').message).toMatch(/^Cannot listen on port 3000: /);
    expect(new InheritedSocketError(3, 'web', { cause: new Error('listen EINVAL') }).message).toMatch(
      /^Cannot listen on the inherited socket fd 3 \("web"\): listen EINVAL\. Pass a node:net Server/,
    );
  });
});
