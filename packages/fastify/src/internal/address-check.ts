import type { FastifyInstance } from 'fastify';

/**
 * Fastify listens on every address `localhost` resolves to (127.0.0.1 and ::1) with one extra
 * server per address; only `fastify.server` is drained. Warn once instead of draining half.
 */
export function warnAboutExtraAddresses(fastify: FastifyInstance): void {
  const addresses = fastify.addresses();
  if (addresses.length <= 1) return;
  const list = addresses
    .map((a) => (typeof a === 'string' ? a : a.family === 'IPv6' ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`))
    .join(', ');
  process.emitWarning(
    `Fastify listens on ${addresses.length} addresses (${list}); @quiesce/fastify drains only the first. ` +
      'Listen on one explicit host (e.g. host: "0.0.0.0", "::" or "127.0.0.1") so that every connection is drained.',
    { code: 'QUIESCE_FASTIFY_EXTRA_ADDRESSES' },
  );
}
