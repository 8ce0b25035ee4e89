/**
 * Delay (ms) of the second look that confirms what a first look found: an idle connection (the
 * tracker) or a quiet server (the response gate). After a stall of the event loop (GC, CPU
 * starvation, SIGSTOP), requests that came meanwhile wait unread in the kernel; a 1 ms timer is
 * enough for the runtime to poll its sockets before the second look (the event loop polls I/O
 * before it runs timers again), and keeps the confirmation from adding much to every shutdown.
 */
export const CONFIRM_MS = 1;
