import type { RawConnection } from '../raw-http.ts';

/**
 * Closes a connection the load is done with: FIN, then destroy after at most 1 s. Waiting for the
 * server's side keeps sockets from piling up half-open across a long run.
 */
export async function retire(connection: RawConnection): Promise<void> {
  connection.end();
  await connection.waitForClose(1_000);
  connection.destroy();
}
