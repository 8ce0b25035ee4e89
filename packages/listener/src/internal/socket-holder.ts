import { lookup } from 'node:dns/promises';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { isIP } from 'node:net';
import { Worker } from 'node:worker_threads';
import { AddressInUseError, SupervisorError } from '../errors.ts';
import { diagnosePort } from '../port-diagnosis.ts';
import type { ListenAddressSpec } from './listen-address.ts';
import { parseProcNetTcp } from './proc-net.ts';

/** A socket the supervisor holds. */
export interface HeldSocket {
  readonly name: string;
  readonly fd: number;
  readonly address: string;
  readonly port: number;
  readonly family: string;
}

/** The held sockets and how to let them go. */
export interface SocketHold {
  readonly sockets: readonly HeldSocket[];
  /** Closes the sockets (this process's copies) and ends the holding thread. Idempotent. */
  release(): Promise<void>;
}

/*
 * The holding thread binds every socket and then blocks in Atomics.wait for good. Its sockets stay
 * open and listening, registered with an event loop that never polls again, so this process never
 * accepts a connection: only the generations, which got the same sockets as fd 3+, do. The binds
 * run back to back on IP literals (dns.lookup answers those on the next tick), so the thread never
 * polls between the first listen and the block. Should it accept anyway, the connection is reset
 * (a refused connection a client may retry), never left hanging.
 */
const HOLDER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const net = require('node:net');
const gate = new Int32Array(workerData.gate);
const servers = [];
const bindNext = (index) => {
  if (index === workerData.specs.length) {
    parentPort.postMessage({
      ok: true,
      sockets: servers.map((server) => {
        const address = server.address();
        const handle = server._handle;
        return { fd: handle && typeof handle.fd === 'number' ? handle.fd : -1, address: address.address, port: address.port, family: address.family };
      }),
    });
    Atomics.wait(gate, 0, 0);
    for (const server of servers) server.close();
    return;
  }
  const spec = workerData.specs[index];
  const server = net.createServer((socket) => socket.resetAndDestroy ? socket.resetAndDestroy() : socket.destroy());
  server.once('error', (error) => parentPort.postMessage({ ok: false, index, code: error.code, message: error.message }));
  server.listen({ host: spec.host, port: spec.port, backlog: workerData.backlog, exclusive: true }, () => {
    servers.push(server);
    bindNext(index + 1);
  });
};
bindNext(0);
`;

/** Binds every address in a thread that never accepts, and returns their fds in this process. */
export async function holdSockets(specs: readonly ListenAddressSpec[], backlog: number): Promise<SocketHold> {
  const resolved = await Promise.all(
    specs.map(async (spec) => {
      if (isIP(spec.host)) return spec;
      try {
        return { ...spec, host: (await lookup(spec.host)).address };
      } catch (error) {
        throw new SupervisorError(`Cannot resolve ${spec.host} (--listen ${spec.name}): ${(error as Error).message}.`, { cause: error });
      }
    }),
  );
  const gate = new SharedArrayBuffer(4);
  const worker = new Worker(HOLDER_SOURCE, { eval: true, workerData: { specs: resolved, backlog, gate } });
  worker.unref();
  type Reply =
    | { ok: true; sockets: { fd: number; address: string; port: number; family: string }[] }
    | { ok: false; index: number; code?: string; message: string };
  const reply = await new Promise<Reply>((resolve, reject) => {
    worker.once('message', resolve);
    worker.once('error', reject);
    worker.once('exit', (code) => reject(new SupervisorError(`The socket-holding thread exited with code ${code} before binding.`)));
  });
  let released = false;
  const release = async (): Promise<void> => {
    if (released) return;
    released = true;
    // Keep the process alive until the thread has closed the sockets and ended.
    worker.ref();
    const view = new Int32Array(gate);
    Atomics.store(view, 0, 1);
    Atomics.notify(view, 0);
    let timer: ReturnType<typeof setTimeout> | undefined;
    await Promise.race([
      new Promise((resolve) => worker.once('exit', resolve)),
      new Promise((resolve) => {
        timer = setTimeout(resolve, 2_000);
      }),
    ]);
    clearTimeout(timer);
    await worker.terminate();
  };
  if (!reply.ok) {
    await worker.terminate();
    const spec = resolved[reply.index]!;
    if (reply.code === 'EADDRINUSE') {
      const diagnosis = await diagnosePort(spec.port);
      throw new AddressInUseError(spec.port, spec.host, diagnosis, 0, diagnosis.summary, { cause: new Error(reply.message) });
    }
    throw new SupervisorError(`Cannot listen on ${spec.host}:${spec.port} (--listen ${spec.name}): ${reply.message}.`);
  }
  const sockets = reply.sockets.map((socket, i) => {
    const fd = socket.fd >= 0 ? socket.fd : findListeningFd(socket.port, socket.address);
    if (fd === undefined) {
      throw new SupervisorError(
        `Cannot find the file descriptor of the socket bound to ${socket.address}:${socket.port}: this runtime hides it and /proc is not available. Run \`quiesce run\` on Node.`,
      );
    }
    return Object.freeze({ name: resolved[i]!.name, fd, address: socket.address, port: socket.port, family: String(socket.family) });
  });
  return { sockets, release };
}

/**
 * Describes a socket this process inherited (LISTEN_FDS) for the supervisor's log: its address from
 * /proc/net/tcp{,6} by inode, or `unknown` (a unix or non-TCP socket, or no /proc).
 */
export function describeInheritedSocket(fd: number, name: string): HeldSocket {
  try {
    const inode = Number(/^socket:\[(\d+)\]$/.exec(readlinkSync(`/proc/self/fd/${fd}`))?.[1]);
    for (const [file, family] of [
      ['tcp', 'IPv4'],
      ['tcp6', 'IPv6'],
    ] as const) {
      const row = parseProcNetTcp(readFileSync(`/proc/net/${file}`, 'utf8'), family).find((r) => r.inode === inode);
      if (row) return { name, fd, address: row.localAddress, port: row.localPort, family };
    }
  } catch {
    // no /proc
  }
  return { name, fd, address: 'unknown', port: 0, family: 'unknown' };
}

/** Finds the fd of a listening TCP socket in this process from /proc (runtimes that hide `_handle.fd`). */
function findListeningFd(port: number, address: string): number | undefined {
  try {
    const rows = [
      ...parseProcNetTcp(readFileSync('/proc/net/tcp', 'utf8'), 'IPv4'),
      ...parseProcNetTcp(readFileSync('/proc/net/tcp6', 'utf8'), 'IPv6'),
    ];
    const inodes = new Set(rows.filter((r) => r.state === 'LISTEN' && r.localPort === port && r.localAddress === address).map((r) => r.inode));
    for (const fd of readdirSync('/proc/self/fd')) {
      let target = '';
      try {
        target = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        continue; // closed meanwhile
      }
      const inode = Number(/^socket:\[(\d+)\]$/.exec(target)?.[1]);
      if (inodes.has(inode)) return Number(fd);
    }
  } catch {
    // no /proc
  }
  return undefined;
}
