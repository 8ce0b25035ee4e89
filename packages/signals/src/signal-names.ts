import { SignalsOptionError } from './errors.ts';

/**
 * The POSIX signal names that Linux and macOS share. Signals that exist on only one of them
 * (SIGPWR, SIGSTKFLT, SIGINFO, SIGEMT) are not supported, so that a policy means the same thing
 * on both.
 */
export type SignalName =
  | 'SIGHUP'
  | 'SIGINT'
  | 'SIGQUIT'
  | 'SIGILL'
  | 'SIGTRAP'
  | 'SIGABRT'
  | 'SIGBUS'
  | 'SIGFPE'
  | 'SIGKILL'
  | 'SIGUSR1'
  | 'SIGSEGV'
  | 'SIGUSR2'
  | 'SIGPIPE'
  | 'SIGALRM'
  | 'SIGTERM'
  | 'SIGCHLD'
  | 'SIGCONT'
  | 'SIGSTOP'
  | 'SIGTSTP'
  | 'SIGTTIN'
  | 'SIGTTOU'
  | 'SIGURG'
  | 'SIGXCPU'
  | 'SIGXFSZ'
  | 'SIGVTALRM'
  | 'SIGPROF'
  | 'SIGWINCH'
  | 'SIGIO'
  | 'SIGSYS';

/**
 * Which numbering to use. `linux` is also right for Windows, where Node emulates SIGINT (2),
 * SIGTERM (15) and SIGHUP (1); `darwin` is the BSD numbering, also used by FreeBSD and OpenBSD.
 */
export type SignalPlatform = 'linux' | 'darwin';

// [linux, darwin]. Linux numbers are those of x86, ARM, RISC-V, PowerPC and s390 (not MIPS, SPARC, Alpha).
const numbers: Readonly<Record<SignalName, readonly [number, number]>> = {
  SIGHUP: [1, 1],
  SIGINT: [2, 2],
  SIGQUIT: [3, 3],
  SIGILL: [4, 4],
  SIGTRAP: [5, 5],
  SIGABRT: [6, 6],
  SIGBUS: [7, 10],
  SIGFPE: [8, 8],
  SIGKILL: [9, 9],
  SIGUSR1: [10, 30],
  SIGSEGV: [11, 11],
  SIGUSR2: [12, 31],
  SIGPIPE: [13, 13],
  SIGALRM: [14, 14],
  SIGTERM: [15, 15],
  SIGCHLD: [17, 20],
  SIGCONT: [18, 19],
  SIGSTOP: [19, 17],
  SIGTSTP: [20, 18],
  SIGTTIN: [21, 21],
  SIGTTOU: [22, 22],
  SIGURG: [23, 16],
  SIGXCPU: [24, 24],
  SIGXFSZ: [25, 25],
  SIGVTALRM: [26, 26],
  SIGPROF: [27, 27],
  SIGWINCH: [28, 28],
  SIGIO: [29, 23],
  SIGSYS: [31, 12],
};

/** The largest number {@link signalNumber} returns on any platform. */
export const MAX_SIGNAL_NUMBER = 31;

/**
 * Whether `value` is one of the supported {@link SignalName}s (case-sensitive, with the `SIG` prefix).
 *
 * @example
 * ```ts
 * isSignalName('SIGTERM'); // true
 * isSignalName('TERM');    // false
 * ```
 */
export function isSignalName(value: unknown): value is SignalName {
  return typeof value === 'string' && Object.hasOwn(numbers, value);
}

/**
 * The number of a signal on the given platform (default `linux`), e.g. for the 128 + n exit-code
 * convention. Only SIGUSR1/SIGUSR2 and the rarely handled job-control and I/O signals differ
 * between Linux and macOS. Throws {@link SignalsOptionError} for an unknown name or platform.
 *
 * @example
 * ```ts
 * signalNumber('SIGTERM');           // 15
 * signalNumber('SIGUSR2', 'darwin'); // 31 (12 on Linux)
 * ```
 */
export function signalNumber(name: SignalName, platform: SignalPlatform = 'linux'): number {
  if (!isSignalName(name)) throw unknownSignal('signal', name);
  if (platform !== 'linux' && platform !== 'darwin') {
    throw new SignalsOptionError('platform', platform, `"linux" or "darwin"`);
  }
  return numbers[name][platform === 'linux' ? 0 : 1];
}

/** Why a signal cannot be given to a policy, or `undefined` when it can. */
export function unlistenableReason(name: SignalName): string | undefined {
  switch (name) {
    case 'SIGKILL':
    case 'SIGSTOP':
      return 'cannot be caught by any process';
    case 'SIGSEGV':
    case 'SIGBUS':
    case 'SIGFPE':
    case 'SIGILL':
      return 'reports a fault in the running code and cannot be handled safely from JavaScript';
    default:
      return undefined;
  }
}

/** The error for a value that is not a supported signal name. */
export function unknownSignal(option: string, value: unknown): SignalsOptionError {
  return new SignalsOptionError(
    option,
    value,
    'an upper-case POSIX signal name shared by Linux and macOS, such as "SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT", "SIGUSR1" or "SIGUSR2"',
  );
}
