import type { Socket } from 'node:net';

/**
 * Returns `watch(socket)`, after which `onClose(socket)` runs each time the socket emits 'close',
 * once its own 'close' listeners have run. It gives the socket an `emit` of its own, one function
 * shared by every socket, instead of adding a 'close' listener: Node's HTTP server already listens
 * for 'close' and adds a listener per response, so a second permanent one turns that slot into an
 * array that grows to 19 entries on the first request (about 200 bytes per idle connection), where
 * an own property costs one slot. A socket that already has an own `emit` (wrapped by someone
 * else) gets a plain listener instead.
 */
export function socketCloseWatcher(onClose: (socket: Socket) => void): (socket: Socket) => void {
  const emit = function (this: Socket, event: string | symbol, ...args: unknown[]): boolean {
    const inherited = (Object.getPrototypeOf(this) as Socket).emit as (event: string | symbol, ...args: unknown[]) => boolean;
    if (event !== 'close') return inherited.call(this, event, ...args);
    try {
      return inherited.call(this, event, ...args);
    } finally {
      onClose(this);
    }
  };
  const listener = function (this: Socket): void {
    onClose(this);
  };
  return (socket) => {
    if (Object.hasOwn(socket, 'emit')) socket.on('close', listener);
    else socket.emit = emit as Socket['emit'];
  };
}
