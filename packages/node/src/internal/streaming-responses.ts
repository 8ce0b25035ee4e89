import { ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import type { TrackedConnection } from '@quiesce/drain';
import { type TlsCarrier, tlsSocketOf } from './socket-closer.ts';

type WithMessage = Socket & { _httpMessage?: unknown };

/** A response whose head is sent and whose body is still going: Server-Sent Events, a long download. */
function isStreaming(res: unknown): boolean {
  return res instanceof ServerResponse && res.headersSent && !res.writableFinished;
}

/**
 * How many responses stream now: the response in progress on each connection with a request in
 * flight (`_httpMessage` of its socket, or of the TLS socket over it), and those on sockets the
 * adapter does not know. Asked twice per drain (its start and the deadline), never per request.
 */
export function countStreamingResponses(active: readonly TrackedConnection[], loose: ReadonlySet<ServerResponse>): number {
  let count = 0;
  for (const connection of active) {
    const socket = connection.raw as (TlsCarrier & WithMessage) | null | undefined;
    if (!socket) continue;
    const current = (socket[tlsSocketOf] as WithMessage | undefined)?._httpMessage ?? socket._httpMessage;
    if (isStreaming(current)) count++;
  }
  for (const res of loose) if (isStreaming(res)) count++;
  return count;
}
