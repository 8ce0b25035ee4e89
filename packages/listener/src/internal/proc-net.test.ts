import { describe, expect, it } from 'vitest';
import { decodeAddress, parseProcNetTcp } from './proc-net.ts';

describe('/proc/net/tcp parsing', () => {
  it('decodes IPv4 and IPv6 addresses as a little-endian kernel prints them', () => {
    expect(decodeAddress('0100007F', true)).toBe('127.0.0.1');
    expect(decodeAddress('00000000', true)).toBe('0.0.0.0');
    expect(decodeAddress('00000000000000000000000001000000', true)).toBe('::1');
    expect(decodeAddress('00000000000000000000000000000000', true)).toBe('::');
    expect(decodeAddress('0000000000000000FFFF00000100007F', true)).toBe('::ffff:127.0.0.1');
    expect(decodeAddress('B80D0120000000000000000001000000', true)).toBe('2001:db8::1');
  });

  it('decodes addresses as a big-endian kernel prints them', () => {
    expect(decodeAddress('7F000001', false)).toBe('127.0.0.1');
    expect(decodeAddress('20010DB8000000000000000000000001', false)).toBe('2001:db8::1');
  });

  it('reads state, ports, uid, inode and the Send-Q / Recv-Q of each row and skips what it cannot read', () => {
    const text = [
      '  sl  local_address rem_address   st tx_queue rx_queue tr tm->when retrnsmt   uid  timeout inode',
      '   0: 0100007F:0BB8 00000000:0000 0A 00000000:00000000 00:00000000 00000000  1000        0 424242 1 0000000000000000 100 0 0 10 0',
      '   1: 0100007F:0BB8 0100007F:C350 06 00000000:00000000 03:00001765 00000000     0        0 0 3 0000000000000000',
      '   2: 0100007F:0BB8 0100007F:C351 08 00000000:00003039 00:00000000 00000000  1000        0 434343 1 0000000000000000',
      '   3: garbage',
    ].join('\n');
    expect(parseProcNetTcp(text, 'IPv4', true)).toEqual([
      { family: 'IPv4', localAddress: '127.0.0.1', localPort: 3000, remoteAddress: '0.0.0.0', remotePort: 0, state: 'LISTEN', uid: 1000, inode: 424242, sendQueue: 0, receiveQueue: 0 },
      { family: 'IPv4', localAddress: '127.0.0.1', localPort: 3000, remoteAddress: '127.0.0.1', remotePort: 50000, state: 'TIME_WAIT', uid: 0, inode: 0, sendQueue: 0, receiveQueue: 0 },
      { family: 'IPv4', localAddress: '127.0.0.1', localPort: 3000, remoteAddress: '127.0.0.1', remotePort: 50001, state: 'CLOSE_WAIT', uid: 1000, inode: 434343, sendQueue: 0, receiveQueue: 12345 },
    ]);
  });
});
