import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListenerOptionError } from './errors.ts';
import { type ProcHolder, socketHolders } from './internal/proc-holders.ts';
import { readTcpSockets } from './internal/proc-net.ts';
import { checkPort } from './internal/validate.ts';
import type { TcpState } from './tcp-state.ts';

/** A process holding a socket on the port. */
export interface PortHolder {
  readonly pid: number;
  /** Its command line, arguments joined with spaces (cut at 300 characters). */
  readonly command: string;
}

/** One TCP socket whose local port is the port in question. */
export interface PortSocket {
  readonly state: TcpState;
  readonly family: 'IPv4' | 'IPv6';
  readonly localAddress: string;
  readonly localPort: number;
  readonly remoteAddress: string;
  readonly remotePort: number;
  /** Owner uid as the kernel records it. */
  readonly uid: number;
  /** Socket inode; 0 for TIME_WAIT sockets, which the kernel owns and no process holds. */
  readonly inode: number;
  /** The processes that have it open (several after a fork or an fd hand-off). */
  readonly holders: readonly PortHolder[];
}

/** Who and what keeps a TCP port taken; see {@link diagnosePort}. */
export interface PortDiagnosis {
  readonly port: number;
  /** False when /proc/net/tcp cannot be read (not Linux): nothing else is known then. */
  readonly supported: boolean;
  /** Every TCP socket with this local port, listeners first. */
  readonly sockets: readonly PortSocket[];
  /** Count of sockets per state. */
  readonly states: Readonly<Partial<Record<TcpState, number>>>;
  /** Every process holding a socket on the port, those holding a listener first. */
  readonly holders: readonly PortHolder[];
  /** A socket on the port is in LISTEN. */
  readonly listening: boolean;
  /** Sockets with an owner that no visible process holds (another user's process, without privileges). */
  readonly unattributed: number;
  /** The port lies in the kernel's ephemeral range (outgoing connections may take it). */
  readonly ephemeral: boolean;
  /** One sentence: who holds the port and what to do. Used in {@link AddressInUseError}'s message. */
  readonly summary: string;
  /** What to do, one line per finding. */
  readonly advice: readonly string[];
}

/** Options for {@link diagnosePort}. */
export interface DiagnosePortOptions {
  /** Where procfs is mounted; e.g. `/host/proc` in a container that sees the host's. Default `/proc`. */
  procRoot?: string;
}

const STATE_ORDER: readonly TcpState[] = [
  'LISTEN',
  'ESTABLISHED',
  'SYN_RECV',
  'NEW_SYN_RECV',
  'SYN_SENT',
  'CLOSE_WAIT',
  'FIN_WAIT1',
  'FIN_WAIT2',
  'CLOSING',
  'LAST_ACK',
  'TIME_WAIT',
  'CLOSE',
];
const CLOSING_STATES: readonly TcpState[] = ['FIN_WAIT1', 'FIN_WAIT2', 'CLOSING', 'LAST_ACK'];

/**
 * Explains who keeps a TCP port taken, from /proc/net/tcp{,6} and /proc/<pid>/fd on Linux: every
 * socket whose local port is `port` with its state, the processes holding them (pid and command
 * line), and advice per state (LISTEN, TIME_WAIT, CLOSE_WAIT, FIN_WAIT1 …). Never throws for what it
 * finds; off Linux it resolves with `supported: false` and advice to use `lsof` or `ss`. Throws
 * {@link ListenerOptionError} for a bad port or option.
 *
 * @example
 * ```ts
 * const diagnosis = await diagnosePort(3000);
 * console.log(diagnosis.summary); // "Held by pid 4242 (node server.js) in LISTEN. …"
 * console.log(formatPortDiagnosis(diagnosis));
 * ```
 */
export async function diagnosePort(port: number, options: DiagnosePortOptions = {}): Promise<PortDiagnosis> {
  checkPort('port', port, 1);
  if (options === null || typeof options !== 'object') throw new ListenerOptionError('options', options, 'an object');
  const { procRoot = '/proc' } = options;
  if (typeof procRoot !== 'string' || procRoot === '') {
    throw new ListenerOptionError('procRoot', procRoot, 'the path where procfs is mounted, e.g. "/proc"');
  }
  const rows = await readTcpSockets(procRoot);
  if (rows === undefined) return unsupported(port);
  const mine = rows.filter((row) => row.localPort === port);
  const inodes = new Set(mine.map((row) => row.inode).filter((inode) => inode !== 0));
  const [holdersByInode, ephemeral] = await Promise.all([socketHolders(procRoot, inodes), inEphemeralRange(procRoot, port)]);
  const sockets: PortSocket[] = mine
    .map((row) => ({ ...row, holders: holdersByInode.get(row.inode) ?? [] }))
    .sort((a, b) => STATE_ORDER.indexOf(a.state) - STATE_ORDER.indexOf(b.state));
  const states: Partial<Record<TcpState, number>> = {};
  for (const socket of sockets) states[socket.state] = (states[socket.state] ?? 0) + 1;
  const holders = uniqueHolders(sockets);
  const unattributed = sockets.filter((s) => s.inode !== 0 && s.holders.length === 0).length;
  const listening = sockets.some((s) => s.state === 'LISTEN');
  const advice = adviseOn(port, sockets, states, ephemeral);
  return {
    port,
    supported: true,
    sockets,
    states,
    holders,
    listening,
    unattributed,
    ephemeral,
    summary: summarize(port, sockets, states, advice),
    advice,
  };
}

/**
 * Renders a {@link PortDiagnosis} as the text `quiesce port <port>` prints: a headline, the
 * holders, one line per socket (at most 20), and the advice.
 *
 * @example
 * ```ts
 * process.stdout.write(formatPortDiagnosis(await diagnosePort(3000)));
 * ```
 */
export function formatPortDiagnosis(diagnosis: PortDiagnosis): string {
  const { port } = diagnosis;
  const lines: string[] = [];
  if (!diagnosis.supported) {
    lines.push(`port ${port}: unknown (no /proc/net/tcp on this system)`);
  } else if (diagnosis.sockets.length === 0) {
    lines.push(`port ${port}: free (no TCP socket uses it)`);
  } else {
    lines.push(`port ${port}: ${diagnosis.listening ? 'in use' : 'no listener'} (${formatStates(diagnosis.states)})`);
    for (const holder of diagnosis.holders) lines.push(`  held by pid ${holder.pid}: ${holder.command}`);
    if (diagnosis.unattributed > 0) lines.push(`  ${diagnosis.unattributed} socket(s) held by processes this user cannot inspect`);
    lines.push('  sockets:');
    const shown = diagnosis.sockets.slice(0, 20);
    const width = Math.max(...shown.map((s) => endpoint(s.localAddress, s.localPort).length));
    for (const socket of shown) {
      const local = endpoint(socket.localAddress, socket.localPort).padEnd(width);
      const peer = socket.state === 'LISTEN' ? '' : `  <- ${endpoint(socket.remoteAddress, socket.remotePort)}`;
      const who =
        socket.holders.length > 0
          ? `pid ${socket.holders.map((h) => h.pid).join(', ')}`
          : socket.inode === 0
            ? 'no process (kernel)'
            : `uid ${socket.uid}, process not visible`;
      lines.push(`    ${socket.state.padEnd(12)} ${local}${peer}  [${who}]`);
    }
    if (diagnosis.sockets.length > shown.length) lines.push(`    … ${diagnosis.sockets.length - shown.length} more`);
  }
  if (diagnosis.advice.length > 0) {
    lines.push('  advice:');
    for (const line of diagnosis.advice) lines.push(`    - ${line}`);
  }
  return `${lines.join('\n')}\n`;
}

function unsupported(port: number): PortDiagnosis {
  const advice = [
    `This system has no /proc/net/tcp; ask the OS who holds the port: \`lsof -nP -iTCP:${port}\` (macOS, BSD) or \`netstat -ano | findstr :${port}\` (Windows).`,
  ];
  return {
    port,
    supported: false,
    sockets: [],
    states: {},
    holders: [],
    listening: false,
    unattributed: 0,
    ephemeral: false,
    summary: `Who holds it cannot be told on this system; run \`lsof -nP -iTCP:${port}\`.`,
    advice,
  };
}

function uniqueHolders(sockets: readonly PortSocket[]): PortHolder[] {
  const byPid = new Map<number, PortHolder>();
  for (const socket of sockets) for (const holder of socket.holders) if (!byPid.has(holder.pid)) byPid.set(holder.pid, holder);
  return [...byPid.values()];
}

async function inEphemeralRange(procRoot: string, port: number): Promise<boolean> {
  try {
    const text = await readFile(join(procRoot, 'sys/net/ipv4/ip_local_port_range'), 'utf8');
    const [low, high] = text.trim().split(/\s+/).map(Number);
    return low !== undefined && high !== undefined && port >= low && port <= high;
  } catch {
    return false;
  }
}

function formatStates(states: Partial<Record<TcpState, number>>): string {
  return STATE_ORDER.filter((s) => states[s])
    .map((s) => `${s} ${states[s]}`)
    .join(', ');
}

function endpoint(address: string, port: number): string {
  return address.includes(':') ? `[${address}]:${port}` : `${address}:${port}`;
}

function describeHolders(holders: readonly ProcHolder[]): string {
  return holders.map((h) => `pid ${h.pid} (${h.command})`).join(', ');
}

function adviseOn(
  port: number,
  sockets: readonly PortSocket[],
  states: Partial<Record<TcpState, number>>,
  ephemeral: boolean,
): string[] {
  const advice: string[] = [];
  if (sockets.length === 0) {
    advice.push(
      `No TCP socket in this network namespace uses port ${port} now: it was freed since (retry), or the holder lives in another namespace (a container sharing the address).`,
    );
    return advice;
  }
  const listeners = sockets.filter((s) => s.state === 'LISTEN');
  const listenHolders = uniqueHolders(listeners);
  if (listenHolders.length > 0) {
    const pids = listenHolders.map((h) => h.pid).join(' ');
    const shared =
      listenHolders.length > 1
        ? ` They share one listening socket: it was inherited (a fork, a child started with the fd, or a hot restart in progress); stop all of them.`
        : '';
    advice.push(
      `LISTEN: ${describeHolders(listenHolders)} is listening on port ${port}. Stop it (\`kill ${pids}\`) or choose another port; if it is an older instance of this service still draining, wait for it (retryUntilFreeMs), and if it is a child of a killed one, it inherited the socket.${shared}`,
    );
  }
  const hiddenListeners = listeners.filter((s) => s.holders.length === 0);
  if (hiddenListeners.length > 0) {
    const uids = [...new Set(hiddenListeners.map((s) => s.uid))].join(', ');
    advice.push(
      `LISTEN: a process of uid ${uids} that this user cannot inspect is listening on port ${port}; run this as root, or \`ss -ltnp 'sport = :${port}'\`.`,
    );
  }
  const open = sockets.filter((s) => s.state === 'ESTABLISHED' || s.state === 'SYN_RECV' || s.state === 'SYN_SENT');
  if (open.length > 0) {
    const who = uniqueHolders(open);
    advice.push(
      `ESTABLISHED: ${open.length} open connection(s)${who.length > 0 ? ` held by ${describeHolders(who)}` : ''}. Connections a listener accepted do not stop a new listener once the old one closed (SO_REUSEADDR, which Node, Bun and Deno set); outgoing connections that took port ${port} as their local port do, until they close.`,
    );
  }
  if (states.CLOSE_WAIT) {
    const who = uniqueHolders(sockets.filter((s) => s.state === 'CLOSE_WAIT'));
    advice.push(
      `CLOSE_WAIT: ${states.CLOSE_WAIT} connection(s) the peer closed but ${who.length > 0 ? describeHolders(who) : 'the process'} never closed: a connection leak or a stuck event loop. They last until that process closes them or exits.`,
    );
  }
  const closing = CLOSING_STATES.filter((s) => states[s]);
  if (closing.length > 0) {
    const count = closing.reduce((sum, s) => sum + (states[s] ?? 0), 0);
    advice.push(
      `${closing.join(', ')}: ${count} connection(s) closing. The kernel finishes them within seconds (FIN_WAIT2 up to net.ipv4.tcp_fin_timeout, 60 s by default); wait, or retry with retryUntilFreeMs.`,
    );
  }
  if (states.TIME_WAIT) {
    advice.push(
      `TIME_WAIT: ${states.TIME_WAIT} connection(s) this host closed first. No process owns them and the kernel drops them within 60 s. They do not stop a listener that sets SO_REUSEADDR (Node, Bun and Deno do) unless they were outgoing connections from port ${port}; wait (retryUntilFreeMs) or choose another port.`,
    );
  }
  if (ephemeral && !listeners.length) {
    advice.push(
      `Port ${port} lies in the kernel's ephemeral range (net.ipv4.ip_local_port_range), which outgoing connections draw from: choose a port below it, or reserve it with net.ipv4.ip_local_reserved_ports.`,
    );
  }
  return advice;
}

function summarize(
  port: number,
  sockets: readonly PortSocket[],
  states: Partial<Record<TcpState, number>>,
  advice: readonly string[],
): string {
  if (sockets.length === 0) return advice[0] ?? '';
  const listenHolders = uniqueHolders(sockets.filter((s) => s.state === 'LISTEN'));
  const census = `Sockets on port ${port}: ${formatStates(states)}.`;
  if (listenHolders.length > 0) {
    const pids = listenHolders.map((h) => h.pid).join(' ');
    return `Held by ${describeHolders(listenHolders)} in LISTEN. ${census} Stop it (\`kill ${pids}\`) or choose another port; if it is an older instance still draining, retry with retryUntilFreeMs.`;
  }
  if (sockets.some((s) => s.state === 'LISTEN')) {
    return `A process this user cannot inspect is listening. ${census} Run \`quiesce port ${port}\` as root, or choose another port.`;
  }
  const others = uniqueHolders(sockets);
  const held = others.length > 0 ? `No listener; connections held by ${describeHolders(others)}. ` : 'No process holds it. ';
  return `${held}${census} ${states.TIME_WAIT ? 'TIME_WAIT sockets expire within 60 s: wait (retryUntilFreeMs) or choose another port.' : 'Wait for them to close (retryUntilFreeMs) or choose another port.'}`;
}
