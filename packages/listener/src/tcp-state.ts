/**
 * A TCP socket state as Linux names it (include/net/tcp_states.h). The ones that matter when a
 * port is taken:
 *
 * | state | meaning for the port |
 * |---|---|
 * | `LISTEN` | a process is listening: it holds the port until it closes the socket or exits |
 * | `ESTABLISHED` | an open connection; its process keeps it bound |
 * | `CLOSE_WAIT` | the peer closed, the process has not: a connection leak or a stuck process |
 * | `FIN_WAIT1`, `FIN_WAIT2`, `CLOSING`, `LAST_ACK` | closing; the kernel finishes within seconds (FIN_WAIT2 up to `tcp_fin_timeout`, 60 s) |
 * | `TIME_WAIT` | this host closed first; no process owns it; gone within 60 s |
 */
export type TcpState =
  | 'ESTABLISHED'
  | 'SYN_SENT'
  | 'SYN_RECV'
  | 'FIN_WAIT1'
  | 'FIN_WAIT2'
  | 'TIME_WAIT'
  | 'CLOSE'
  | 'CLOSE_WAIT'
  | 'LAST_ACK'
  | 'LISTEN'
  | 'CLOSING'
  | 'NEW_SYN_RECV';
