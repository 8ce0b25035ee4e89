import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ListenerOptionError } from './errors.ts';
import { type ProcHolder, commandLine, socketHolders } from './internal/proc-holders.ts';
import { type ProcessState, readProcProcess } from './internal/proc-process.ts';
import { readTcpSockets } from './internal/proc-net.ts';
import { checkPort } from './internal/validate.ts';
import type { TcpState } from './tcp-state.ts';

export type { ProcessState } from './internal/proc-process.ts';

/**
 * A process holding a socket on the port, and what /proc says about why it may not let go. A field
 * that could not be read is `undefined`, and the file is named in `unreadable`.
 */
export interface PortHolder {
  readonly pid: number;
  /** Its command line, arguments joined with spaces (cut at 300 characters). */
  readonly command: string;
  /**
   * From /proc/<pid>/stat. `stopped` (SIGSTOP, Ctrl-Z): it acts on no signal but SIGKILL until
   * continued; `tracing-stop`: held by a debugger; `disk-sleep`: signals wait until the kernel
   * returns; `zombie`: it exited and waits for its parent to reap it.
   */
  readonly state: ProcessState | undefined;
  /** Its parent's pid and command line. */
  readonly ppid: number | undefined;
  readonly parentCommand: string | undefined;
  /** Adopted by pid 1 (or a subreaper such as `systemd --user`) after the process that started it exited. */
  readonly orphan: boolean | undefined;
  /** How long it has run, in ms. */
  readonly ageMs: number | undefined;
  /** The debugger's pid when `state` is `tracing-stop`. */
  readonly tracerPid: number | undefined;
  /**
   * An orphan that holds a socket of the port without close-on-exec, as a program that got it across
   * exec does: it most likely inherited the socket from the process that started it, now gone.
   */
  readonly inheritedSocket: boolean | undefined;
  /** /proc files that could not be read, with why (`/proc/4242/status (EACCES)`). */
  readonly unreadable: readonly string[];
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
  /** Recv-Q: bytes received that the process has not read (LISTEN: connections not yet accepted). */
  readonly receiveQueue: number;
  /** Send-Q: bytes sent that the peer has not acknowledged (LISTEN: the backlog's size). */
  readonly sendQueue: number;
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
/** States whose queues say why a connection lingers: shown even when empty. */
const QUEUE_STATES: readonly TcpState[] = ['CLOSE_WAIT', 'FIN_WAIT1', 'FIN_WAIT2'];

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
  const described = await describeHolders(procRoot, holdersByInode);
  const sockets: PortSocket[] = mine
    .map((row) => ({ ...row, holders: (holdersByInode.get(row.inode) ?? []).map((h) => described.get(h.pid)!) }))
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
    for (const holder of diagnosis.holders) {
      lines.push(`  held by pid ${holder.pid}: ${holder.command}`);
      lines.push(`    ${holderFacts(holder)}`);
      if (holder.unreadable.length > 0) lines.push(`    cannot read ${holder.unreadable.join(', ')}`);
    }
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
      const queues = socket.receiveQueue > 0 || socket.sendQueue > 0 || QUEUE_STATES.includes(socket.state) ? `  recv-q ${socket.receiveQueue} send-q ${socket.sendQueue}` : '';
      lines.push(`    ${socket.state.padEnd(12)} ${local}${peer}  [${who}]${queues}`);
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

/** Reads what /proc says about every holder, once per pid. */
async function describeHolders(procRoot: string, byInode: ReadonlyMap<number, readonly ProcHolder[]>): Promise<Map<number, PortHolder>> {
  const fds = new Map<number, { command: string; fds: number[] }>();
  for (const list of byInode.values()) {
    for (const h of list) {
      const entry = fds.get(h.pid) ?? { command: h.command, fds: [] };
      entry.fds.push(h.fd);
      fds.set(h.pid, entry);
    }
  }
  const described = new Map<number, PortHolder>();
  await Promise.all(
    [...fds].map(async ([pid, { command, fds: held }]) => {
      const info = await readProcProcess(procRoot, pid, held, (parent) => commandLine(procRoot, parent));
      described.set(pid, {
        pid,
        command,
        state: info.state,
        ppid: info.ppid,
        parentCommand: info.parentCommand,
        orphan: info.orphan,
        ageMs: info.ageMs,
        tracerPid: info.tracerPid,
        inheritedSocket: info.orphan === undefined || info.withoutCloseOnExec === undefined ? undefined : info.orphan && info.withoutCloseOnExec,
        unreadable: info.unreadable,
      });
    }),
  );
  return described;
}

/** How long, for people: `12 s`, `3 min`, `2 h 5 min`, `4 d 3 h`. */
function formatAge(ms: number): string {
  const s = Math.floor(ms / 1_000);
  if (s < 120) return `${s} s`;
  const min = Math.floor(s / 60);
  if (min < 120) return `${min} min`;
  const h = Math.floor(min / 60);
  if (h < 48) return `${h} h ${min % 60} min`;
  return `${Math.floor(h / 24)} d ${h % 24} h`;
}

const STATE_WORDS: Readonly<Record<ProcessState, string>> = {
  running: 'running (R)',
  sleeping: 'sleeping (S, waiting for events: a normal state for a server)',
  'disk-sleep': 'in uninterruptible sleep (D)',
  stopped: 'stopped (T: SIGSTOP, or Ctrl-Z in its terminal)',
  'tracing-stop': 'stopped by a debugger (t)',
  zombie: 'a zombie (Z: it exited and waits for its parent to reap it)',
  dead: 'dead (X)',
  idle: 'an idle kernel thread (I)',
  unknown: 'in an unknown state',
};

/** The facts line of a holder in `quiesce port`: state, parent, orphan, age; unreadable ones say so. */
function holderFacts(h: PortHolder): string {
  const facts = [h.state === undefined ? 'state unknown (unreadable)' : STATE_WORDS[h.state]];
  if (h.ppid === undefined) facts.push('parent unknown (unreadable)');
  else facts.push(`parent pid ${h.ppid}${h.parentCommand ? ` (${h.parentCommand})` : ''}`);
  if (h.orphan) facts.push('an orphan: the process that started it has exited');
  if (h.inheritedSocket) facts.push('holds the socket without close-on-exec (inherited)');
  facts.push(h.ageMs === undefined ? 'age unknown (unreadable)' : `running for ${formatAge(h.ageMs)}`);
  return facts.join('; ');
}

/** What ends a holder, given its state. */
function stopCommand(h: PortHolder): string {
  switch (h.state) {
    case 'stopped':
      return `\`kill -CONT ${h.pid}\` (or \`fg\` in the shell that stopped it) and then \`kill ${h.pid}\`, or \`kill -9 ${h.pid}\` at once`;
    case 'tracing-stop':
      return `detach the debugger${h.tracerPid ? ` (pid ${h.tracerPid})` : ''}, or \`kill -9 ${h.pid}\``;
    case 'zombie':
      return h.ppid ? `have its parent pid ${h.ppid} reap it (wait()), or stop that parent` : 'have its parent reap it';
    case 'disk-sleep':
      return `\`kill -9 ${h.pid}\` (it takes effect once the kernel call returns)`;
    default:
      return `\`kill ${h.pid}\``;
  }
}

/** Why a holder may not let go, one sentence per finding, all read from /proc. */
function holderAdvice(h: PortHolder): string[] {
  const advice: string[] = [];
  const who = `pid ${h.pid} (${h.command})`;
  if (h.state === 'stopped') {
    advice.push(
      `${who} is stopped (state T: SIGSTOP, or Ctrl-Z in its terminal). A stopped process acts on no signal but SIGKILL until it is continued, so \`kill ${h.pid}\` alone does nothing yet: continue it first (\`kill -CONT ${h.pid}\`, or \`fg\` in the shell that stopped it) and then \`kill ${h.pid}\`, or end it at once with \`kill -9 ${h.pid}\` (no graceful shutdown).`,
    );
  } else if (h.state === 'tracing-stop') {
    advice.push(`${who} is stopped by a debugger${h.tracerPid ? ` (pid ${h.tracerPid})` : ''}: detach it, or \`kill -9 ${h.pid}\`.`);
  } else if (h.state === 'disk-sleep') {
    advice.push(`${who} is in uninterruptible sleep (state D: waiting on the kernel, e.g. a hung network file system); every signal waits until that returns, \`kill -9 ${h.pid}\` included.`);
  } else if (h.state === 'zombie') {
    advice.push(`${who} is a zombie: it exited, and its parent pid ${h.ppid ?? '?'}${h.parentCommand ? ` (${h.parentCommand})` : ''} must reap it (wait()); stopping that parent hands it to pid 1, which does.`);
  }
  if (h.orphan) {
    const inherited = h.inheritedSocket
      ? ' It holds the socket without close-on-exec, as a program that got it across exec does: it most likely inherited the socket from the process that started it, which has exited, and keeps the port although it may never serve on it.'
      : h.inheritedSocket === undefined
        ? ' Whether it inherited the socket cannot be told (its fd flags are unreadable).'
        : '';
    advice.push(`${who} is an orphan: the process that started it has exited and pid ${h.ppid}${h.parentCommand ? ` (${h.parentCommand})` : ''} adopted it.${inherited} End it with ${stopCommand(h)}.`);
  }
  if (h.unreadable.length > 0) advice.push(`For ${who}, /proc did not say everything: cannot read ${h.unreadable.join(', ')}.`);
  return advice;
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

function describeHolderList(holders: readonly PortHolder[]): string {
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
    const stop = listenHolders.every((h) => stopCommand(h) === `\`kill ${h.pid}\``) ? `\`kill ${pids}\`` : listenHolders.map(stopCommand).join('; ');
    advice.push(
      `LISTEN: ${describeHolderList(listenHolders)} is listening on port ${port}. Stop it (${stop}) or choose another port; if it is an older instance of this service still draining, wait for it (retryUntilFreeMs), and if it is a child of a killed one, it inherited the socket.${shared}`,
    );
  }
  for (const holder of uniqueHolders(sockets)) advice.push(...holderAdvice(holder));
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
      `ESTABLISHED: ${open.length} open connection(s)${who.length > 0 ? ` held by ${describeHolderList(who)}` : ''}. Connections a listener accepted do not stop a new listener once the old one closed (SO_REUSEADDR, which Node, Bun and Deno set); outgoing connections that took port ${port} as their local port do, until they close.`,
    );
  }
  if (states.CLOSE_WAIT) {
    const closeWait = sockets.filter((s) => s.state === 'CLOSE_WAIT');
    const who = uniqueHolders(closeWait);
    const unread = closeWait.filter((s) => s.receiveQueue > 0);
    const bytes = unread.reduce((sum, s) => sum + s.receiveQueue, 0);
    const queues =
      unread.length > 0
        ? ` ${unread.length} of them have data the process has not read (Recv-Q ${bytes} in all, the peer's FIN counting as 1): it stopped reading those connections, so its event loop is blocked, the process is stopped, or it leaks them.`
        : ' Their Recv-Q is empty: it read everything and forgot to close them (a leak).';
    advice.push(
      `CLOSE_WAIT: ${states.CLOSE_WAIT} connection(s) the peer closed but ${who.length > 0 ? describeHolderList(who) : 'the process'} never closed.${queues} They last until that process closes them or exits.`,
    );
  }
  const closing = CLOSING_STATES.filter((s) => states[s]);
  if (closing.length > 0) {
    const count = closing.reduce((sum, s) => sum + (states[s] ?? 0), 0);
    const unsent = sockets.filter((s) => CLOSING_STATES.includes(s.state) && s.sendQueue > 0);
    const queues =
      unsent.length > 0
        ? ` ${unsent.length} of them still have ${unsent.reduce((sum, s) => sum + s.sendQueue, 0)} byte(s) the peer has not acknowledged (Send-Q): the peer is not reading or is unreachable, and the kernel keeps retransmitting (net.ipv4.tcp_retries2, tcp_orphan_retries) before it gives up.`
        : '';
    const finWait2 = states.FIN_WAIT2 ? ' FIN_WAIT2 waits for the peer to close its side: a peer that never does keeps it until net.ipv4.tcp_fin_timeout (60 s by default) once no process holds it.' : '';
    advice.push(
      `${closing.join(', ')}: ${count} connection(s) closing. The kernel finishes them within seconds (FIN_WAIT2 up to net.ipv4.tcp_fin_timeout, 60 s by default); wait, or retry with retryUntilFreeMs.${queues}${finWait2}`,
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

/** The one sentence the summary says about a holder that will not let go for a reason /proc shows. */
function whyItStays(h: PortHolder): string {
  const who = `pid ${h.pid}`;
  if (h.state === 'stopped') return `${who} is stopped (SIGSTOP or Ctrl-Z): \`kill ${h.pid}\` does nothing until it is continued.`;
  if (h.state === 'tracing-stop') return `${who} is stopped by a debugger.`;
  if (h.state === 'disk-sleep') return `${who} is in uninterruptible sleep (D).`;
  if (h.state === 'zombie') return `${who} is a zombie that its parent pid ${h.ppid ?? '?'} has not reaped.`;
  if (h.orphan && h.inheritedSocket) return `${who} is an orphan that most likely inherited the socket from its exited parent.`;
  if (h.orphan) return `${who} is an orphan (adopted by pid ${h.ppid}).`;
  return '';
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
    const why = listenHolders.map(whyItStays).filter(Boolean).join(' ');
    const stop = listenHolders.every((h) => stopCommand(h) === `\`kill ${h.pid}\``) ? `\`kill ${pids}\`` : listenHolders.map(stopCommand).join('; ');
    return `Held by ${describeHolderList(listenHolders)} in LISTEN. ${why ? `${why} ` : ''}${census} Stop it (${stop}) or choose another port; if it is an older instance still draining, retry with retryUntilFreeMs.`;
  }
  if (sockets.some((s) => s.state === 'LISTEN')) {
    return `A process this user cannot inspect is listening. ${census} Run \`quiesce port ${port}\` as root, or choose another port.`;
  }
  const others = uniqueHolders(sockets);
  const held = others.length > 0 ? `No listener; connections held by ${describeHolderList(others)}. ` : 'No process holds it. ';
  return `${held}${census} ${states.TIME_WAIT ? 'TIME_WAIT sockets expire within 60 s: wait (retryUntilFreeMs) or choose another port.' : 'Wait for them to close (retryUntilFreeMs) or choose another port.'}`;
}
