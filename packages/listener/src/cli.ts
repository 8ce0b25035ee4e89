import process from 'node:process';
import { AddressInUseError, ListenerOptionError, SupervisorError } from './errors.ts';
import { parseListenAddress } from './internal/listen-address.ts';
import { diagnosePort, formatPortDiagnosis } from './port-diagnosis.ts';
import { runSupervisor } from './supervisor.ts';

/** Where {@link runCli} writes; defaults to the process's stdout and stderr. */
export interface CliIo {
  /** Receives text for stdout (lines end with `\n`). */
  stdout?: (text: string) => void;
  /** Receives text for stderr (lines end with `\n`). */
  stderr?: (text: string) => void;
  /** Environment for `quiesce run`'s generations. Default `process.env`. */
  env?: Record<string, string | undefined>;
}

/** The CLI's help text. */
export const CLI_USAGE: string = `usage:
  quiesce port <port>
      Who holds a TCP port (pid, command line), in which states its sockets are, and what to do.
      Exit 0 when nothing listens on it, 1 when something does.
  quiesce run --listen [NAME=]HOST:PORT [--listen …] [--ready-timeout MS] [--stop-timeout MS] [--settle MS] -- <command…>
      Bind the sockets once (or pass on those systemd gave it: --listen may then be left out) and
      run <command> with them as fd 3+ (systemd protocol). SIGHUP or SIGUSR2
      starts a new generation and stops the old one once the new one is ready; SIGTERM/SIGINT stop
      and exit with the generation's code. A crashed generation is restarted with backoff.
      Under systemd (NOTIFY_SOCKET) it is a Type=notify-reload service: READY=1 once a generation
      serves, RELOADING=1 then READY=1 around a roll, STOPPING=1 on SIGTERM, WATCHDOG=1 pings.
`;

/**
 * The `quiesce` command line: `quiesce port <port>` prints {@link diagnosePort}'s diagnosis, and
 * `quiesce run --listen HOST:PORT -- <command…>` runs {@link runSupervisor} until it exits. Resolves
 * with the exit code (2 for a usage error, with the usage on stderr); never rejects for user errors.
 *
 * @example
 * ```ts
 * #!/usr/bin/env node
 * import { runCli } from '@quiesce/listener';
 * process.exitCode = await runCli(process.argv.slice(2));
 * ```
 */
export async function runCli(argv: readonly string[], io: CliIo = {}): Promise<number> {
  const out = io.stdout ?? ((text: string) => void process.stdout.write(text));
  const err = io.stderr ?? ((text: string) => void process.stderr.write(text));
  if (!Array.isArray(argv) || !argv.every((arg) => typeof arg === 'string')) {
    err(`quiesce: expected the arguments as an array of strings\n${CLI_USAGE}`);
    return 2;
  }
  const usage = (problem: string): number => {
    err(`quiesce: ${problem}\n${CLI_USAGE}`);
    return 2;
  };
  const [command, ...rest] = argv;
  if (command === undefined) return usage('missing command');
  if (command === '--help' || command === '-h' || command === 'help') {
    out(CLI_USAGE);
    return 0;
  }
  if (command === 'port') {
    if (rest.length !== 1 || !/^\d{1,5}$/.test(rest[0]!) || Number(rest[0]) < 1 || Number(rest[0]) > 65535) {
      return usage(`port needs one port number from 1 to 65535${rest.length > 0 ? `, got ${JSON.stringify(rest.join(' '))}` : ''}`);
    }
    const diagnosis = await diagnosePort(Number(rest[0]));
    out(formatPortDiagnosis(diagnosis));
    return diagnosis.listening ? 1 : 0;
  }
  if (command === 'run') {
    let parsed: ReturnType<typeof parseRun>;
    try {
      parsed = parseRun(rest);
    } catch (error) {
      return usage(error instanceof Error ? error.message : String(error));
    }
    try {
      const supervisor = await runSupervisor({ ...parsed, env: io.env ?? process.env, log: (line) => err(`${line}\n`) });
      return await supervisor.exited;
    } catch (error) {
      if (error instanceof AddressInUseError || error instanceof SupervisorError) {
        err(`quiesce run: ${error.message}\n`);
        return 1;
      }
      if (error instanceof ListenerOptionError) return usage(error.message);
      throw error;
    }
  }
  return usage(`unknown command ${JSON.stringify(command)}`);
}

function parseRun(args: readonly string[]): {
  listen: string[];
  command: string[];
  readyTimeoutMs?: number;
  stopTimeoutMs?: number;
  settleMs?: number;
} {
  const listen: string[] = [];
  let readyTimeoutMs: number | undefined;
  let stopTimeoutMs: number | undefined;
  let settleMs: number | undefined;
  const dash = args.indexOf('--');
  if (dash < 0) throw new Error('run needs "--" before the command');
  const command = args.slice(dash + 1);
  if (command.length === 0) throw new Error('run needs a command after "--"');
  const flags = args.slice(0, dash);
  const milliseconds = (flag: string, value: string | undefined): number => {
    if (value === undefined || !/^\d+$/.test(value) || Number(value) < 1) throw new Error(`${flag} needs a whole number of milliseconds ≥ 1`);
    return Number(value);
  };
  for (let i = 0; i < flags.length; i++) {
    const arg = flags[i]!;
    const eq = arg.startsWith('--') ? arg.indexOf('=') : -1;
    const flag = eq > 0 ? arg.slice(0, eq) : arg;
    const value = (): string | undefined => (eq > 0 ? arg.slice(eq + 1) : flags[++i]);
    if (flag === '--listen' || flag === '-l') {
      const text = value();
      if (text === undefined) throw new Error('--listen needs [NAME=]HOST:PORT');
      parseListenAddress('--listen', text, listen.length);
      listen.push(text);
    } else if (flag === '--ready-timeout') readyTimeoutMs = milliseconds(flag, value());
    else if (flag === '--stop-timeout') stopTimeoutMs = milliseconds(flag, value());
    else if (flag === '--settle') {
      const text = value();
      if (text === undefined || !/^\d+$/.test(text)) throw new Error('--settle needs a whole number of milliseconds ≥ 0');
      settleMs = Number(text);
    }
    else throw new Error(`unknown option ${JSON.stringify(arg)}`);
  }
  return { listen, command, readyTimeoutMs, stopTimeoutMs, settleMs };
}
