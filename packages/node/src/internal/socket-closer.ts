import type { Socket } from 'node:net';

/** On a TCP socket of an `https` server: the TLS socket over it, through which it is closed. */
export const tlsSocketOf: unique symbol = Symbol('quiesce.tlsSocket');

/** A socket that may carry the TLS socket over it. */
export type TlsCarrier = Socket & { [tlsSocketOf]?: Socket };

/**
 * How the tracker closes Node sockets: one object for all of them, so that a connection costs no
 * closures. An `https` connection is closed through its TLS socket (close_notify) once there is one.
 */
export const socketCloser: {
  close(socket: TlsCarrier): void;
  destroy(socket: TlsCarrier): void;
  bytesRead(socket: TlsCarrier): number;
} = {
  // destroySoon: FIN once pending writes are flushed, then release the fd.
  close: (socket) => (socket[tlsSocketOf] ?? socket).destroySoon(),
  destroy: (socket) => {
    (socket[tlsSocketOf] ?? socket).destroy();
  },
  bytesRead: (socket) => socket.bytesRead,
};
