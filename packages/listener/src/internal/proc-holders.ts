import { readFile, readdir, readlink } from 'node:fs/promises';
import { join } from 'node:path';
import { redactSecrets } from '@quiesce/core';

/** A process that has a socket open, and the fd it has it as. */
export interface ProcHolder {
  readonly pid: number;
  readonly command: string;
  readonly fd: number;
}

const MAX_COMMAND = 300;

/** The command line of `pid` from `<procRoot>/<pid>/cmdline`, or `[name]` for kernel threads. */
export async function commandLine(procRoot: string, pid: number): Promise<string> {
  try {
    const raw = await readFile(join(procRoot, String(pid), 'cmdline'), 'utf8');
    // Arguments may hold newlines (node -e '…'): one line per holder in every report. Another
    // process's arguments end up in error messages and logs: no credentials in them.
    const command = redactSecrets(raw.split('\0').filter(Boolean).join(' ').replace(/[\r\n\t]+/g, ' '));
    if (command) return command.length > MAX_COMMAND ? `${command.slice(0, MAX_COMMAND - 1)}…` : command;
  } catch {
    // The process may have exited; fall through to its name.
  }
  try {
    return `[${(await readFile(join(procRoot, String(pid), 'comm'), 'utf8')).trim()}]`;
  } catch {
    return '(exited)';
  }
}

/**
 * Finds which processes hold the sockets with these inodes, by reading every
 * `<procRoot>/<pid>/fd/*` link (`socket:[inode]`). Processes of other users cannot be read without
 * privileges; their sockets stay unattributed.
 */
export async function socketHolders(procRoot: string, inodes: ReadonlySet<number>): Promise<Map<number, ProcHolder[]>> {
  const found = new Map<number, ProcHolder[]>();
  if (inodes.size === 0) return found;
  let entries: string[];
  try {
    entries = await readdir(procRoot);
  } catch {
    return found;
  }
  const pids = entries.filter((name) => /^\d+$/.test(name)).map(Number);
  const commands = new Map<number, Promise<string>>();
  await Promise.all(
    pids.map(async (pid) => {
      let fds: string[];
      try {
        fds = await readdir(join(procRoot, String(pid), 'fd'));
      } catch {
        return; // exited, or another user's process
      }
      const seen = new Set<number>();
      for (const fd of fds) {
        let target: string;
        try {
          target = await readlink(join(procRoot, String(pid), 'fd', fd));
        } catch {
          continue;
        }
        const match = /^socket:\[(\d+)\]$/.exec(target);
        if (!match) continue;
        const inode = Number(match[1]);
        if (!inodes.has(inode) || seen.has(inode)) continue;
        seen.add(inode);
        if (!commands.has(pid)) commands.set(pid, commandLine(procRoot, pid));
        const command = await commands.get(pid)!;
        const list = found.get(inode) ?? [];
        list.push({ pid, command, fd: Number(fd) });
        found.set(inode, list);
      }
    }),
  );
  for (const list of found.values()) list.sort((a, b) => a.pid - b.pid);
  return found;
}
