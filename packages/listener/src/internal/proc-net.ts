import { readFile } from 'node:fs/promises';
import { endianness } from 'node:os';
import { join } from 'node:path';
import type { TcpState } from '../tcp-state.ts';

/** One row of /proc/net/tcp or /proc/net/tcp6. */
export interface ProcTcpRow {
  readonly family: 'IPv4' | 'IPv6';
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  readonly state: TcpState;
  readonly uid: number;
  readonly inode: number;
  /** Send-Q: bytes not yet acknowledged by the peer (for LISTEN: the backlog's size). */
  readonly sendQueue: number;
  /** Recv-Q: bytes received that the process has not read (for LISTEN: connections waiting to be accepted). */
  readonly receiveQueue: number;
}

/** The kernel's TCP state numbers (include/net/tcp_states.h). */
const STATES: Readonly<Record<number, TcpState>> = {
  1: 'ESTABLISHED',
  2: 'SYN_SENT',
  3: 'SYN_RECV',
  4: 'FIN_WAIT1',
  5: 'FIN_WAIT2',
  6: 'TIME_WAIT',
  7: 'CLOSE',
  8: 'CLOSE_WAIT',
  9: 'LAST_ACK',
  10: 'LISTEN',
  11: 'CLOSING',
  12: 'NEW_SYN_RECV',
};

/**
 * The kernel prints each 32-bit word of an address as a host-order integer, so on little-endian
 * machines the bytes of every word come out reversed.
 */
function wordBytes(hex: string, littleEndian: boolean): number[] {
  const bytes: number[] = [];
  for (let i = 0; i < hex.length; i += 8) {
    const word = hex.slice(i, i + 8);
    const chunk = [0, 2, 4, 6].map((at) => Number.parseInt(word.slice(at, at + 2), 16));
    bytes.push(...(littleEndian ? chunk.reverse() : chunk));
  }
  return bytes;
}

/** Decodes `0100007F` or a 32-digit IPv6 word string into a printable address. */
export function decodeAddress(hex: string, littleEndian: boolean = endianness() === 'LE'): string {
  const bytes = wordBytes(hex, littleEndian);
  if (bytes.length === 4) return bytes.join('.');
  // ::ffff:a.b.c.d, the form IPv4 peers of a dual-stack socket take.
  if (bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff && bytes[11] === 0xff) {
    return `::ffff:${bytes.slice(12).join('.')}`;
  }
  const groups: string[] = [];
  for (let i = 0; i < 16; i += 2) groups.push(((bytes[i]! << 8) | bytes[i + 1]!).toString(16));
  // Compress the longest run of zero groups, as RFC 5952 asks.
  let bestStart = -1;
  let bestLength = 0;
  for (let i = 0; i < 8; ) {
    if (groups[i] !== '0') {
      i++;
      continue;
    }
    let j = i;
    while (j < 8 && groups[j] === '0') j++;
    if (j - i > bestLength && j - i > 1) {
      bestStart = i;
      bestLength = j - i;
    }
    i = j;
  }
  if (bestStart < 0) return groups.join(':');
  return `${groups.slice(0, bestStart).join(':')}::${groups.slice(bestStart + bestLength).join(':')}`;
}

/** Parses the text of /proc/net/tcp or /proc/net/tcp6; rows it cannot read are skipped. */
export function parseProcNetTcp(text: string, family: 'IPv4' | 'IPv6', littleEndian?: boolean): ProcTcpRow[] {
  const rows: ProcTcpRow[] = [];
  for (const line of text.split('\n').slice(1)) {
    const fields = line.trim().split(/\s+/);
    if (fields.length < 10) continue;
    const [local, remote, st, queues] = [fields[1]!, fields[2]!, fields[3]!, fields[4]!];
    const [tx = '0', rx = '0'] = queues.split(':');
    const [localHex, localPortHex] = local.split(':');
    const [remoteHex, remotePortHex] = remote.split(':');
    const state = STATES[Number.parseInt(st, 16)];
    if (!localHex || !localPortHex || !remoteHex || !remotePortHex || !state) continue;
    rows.push({
      family,
      localAddress: decodeAddress(localHex, littleEndian),
      localPort: Number.parseInt(localPortHex, 16),
      remoteAddress: decodeAddress(remoteHex, littleEndian),
      remotePort: Number.parseInt(remotePortHex, 16),
      state,
      uid: Number(fields[7]),
      inode: Number(fields[9]),
      sendQueue: Number.parseInt(tx, 16) || 0,
      receiveQueue: Number.parseInt(rx, 16) || 0,
    });
  }
  return rows;
}

/**
 * Reads the TCP sockets of this network namespace from `<procRoot>/net/tcp{,6}`. Returns
 * `undefined` when neither file can be read (not Linux, or /proc not mounted).
 */
export async function readTcpSockets(procRoot: string): Promise<ProcTcpRow[] | undefined> {
  const read = (name: string): Promise<string | undefined> => readFile(join(procRoot, 'net', name), 'utf8').catch(() => undefined);
  const [v4, v6] = await Promise.all([read('tcp'), read('tcp6')]);
  if (v4 === undefined && v6 === undefined) return undefined;
  return [...(v4 ? parseProcNetTcp(v4, 'IPv4') : []), ...(v6 ? parseProcNetTcp(v6, 'IPv6') : [])];
}
