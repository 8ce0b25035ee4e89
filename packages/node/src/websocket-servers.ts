import type { WebSocketCloser, WebSocketFarewell } from '@quiesce/drain';
import { NodeAdapterOptionError } from './errors.ts';

/**
 * A WebSocket as the Node adapter closes it: what `ws`'s `WebSocket` offers (the adapter never
 * imports `ws`; any object of this shape will do).
 */
export interface WebSocketLike {
  /** 0 connecting, 1 open, 2 closing, 3 closed. */
  readonly readyState: number;
  /** Sends a Close frame; `ws` ends the TCP connection (FIN) once the peer answers with its own. */
  close(code?: number, reason?: string): void;
  /** Destroys the TCP connection now. */
  terminate(): void;
  once(event: 'close', listener: () => void): unknown;
}

/**
 * A WebSocket server as the Node adapter follows it: what `ws`'s `WebSocketServer` offers
 * (`new WebSocketServer({ server })` or `{ noServer: true }`).
 */
export interface WebSocketServerLike {
  on(event: 'connection', listener: (ws: WebSocketLike) => void): unknown;
  removeListener(event: 'connection', listener: (ws: WebSocketLike) => void): unknown;
  /** The WebSockets open now (`ws` keeps it unless `clientTracking: false`). */
  readonly clients?: ReadonlySet<WebSocketLike>;
}

const CLOSED = 3;

/** How `ws`'s WebSockets are closed: a Close frame, and `terminate()` (FIN) when the peer stays silent. */
const wsCloser: WebSocketCloser<WebSocketLike> = {
  close: (ws, code, reason) => {
    if (ws.readyState < CLOSED) ws.close(code, reason);
  },
  end: (ws) => ws.terminate(),
};

/** `webSockets` as a list of servers; throws {@link NodeAdapterOptionError} for anything else. */
export function checkWebSocketServers(value: unknown): readonly WebSocketServerLike[] {
  if (value === undefined) return [];
  const list = Array.isArray(value) ? value : [value];
  for (const server of list) {
    const candidate = server as Partial<WebSocketServerLike> | null;
    if (candidate === null || typeof candidate !== 'object' || typeof candidate.on !== 'function' || typeof candidate.removeListener !== 'function') {
      throw new NodeAdapterOptionError(
        'webSockets',
        value,
        "a WebSocketServer of the ws package (new WebSocketServer({ server })), or an array of them",
      );
    }
  }
  return list as WebSocketServerLike[];
}

/**
 * Records every WebSocket of `servers` with `farewell` (those open now and those to come), so that
 * shutdown closes them with 1001 (or 1012), and forgets each once closed. Returns a function that
 * stops following.
 */
export function followWebSocketServers(servers: readonly WebSocketServerLike[], farewell: WebSocketFarewell): () => void {
  if (servers.length === 0) return () => {};
  const follow = (ws: WebSocketLike): void => {
    if (ws.readyState >= CLOSED) return;
    farewell.opened(ws, wsCloser);
    ws.once('close', () => farewell.closed(ws));
  };
  for (const server of servers) {
    for (const ws of server.clients ?? []) follow(ws);
    server.on('connection', follow);
  }
  return () => {
    for (const server of servers) server.removeListener('connection', follow);
  };
}
