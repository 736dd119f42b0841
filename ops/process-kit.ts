/**
 * What every xtrader process entry (persister, market-data, ws-server, publishers) shares: the
 * small GET-only status server (/metrics, /health), retrying a start-up dependency with back-off,
 * and "run until SIGTERM/SIGINT, then close and exit 0".
 */
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { Logger } from 'pino';
import { Backoff, systemClock, type Clock } from '../lib/backoff.ts';

export type StatusAnswer = { status: number; type: string; body: string };

/** A GET-only HTTP server answering from `answer(route)`; resolves once listening. */
export function serveStatus(host: string, port: number, answer: (route: string) => Promise<StatusAnswer>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      const route = (request.url ?? '/').split('?')[0]!;
      if (request.method !== 'GET') {
        response.writeHead(405, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'METHOD_NOT_ALLOWED', message: 'GET only' }));
        return;
      }
      answer(route).then(
        ({ status, type, body }) => response.writeHead(status, { 'Content-Type': type }).end(body),
        (error: unknown) => response.writeHead(500, { 'Content-Type': 'application/json' }).end(JSON.stringify({ error: 'INTERNAL', message: String(error) })),
      );
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/** Closes a status server, cutting its keep-alive connections (a scraper's would hold it open). */
export function closeStatusServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Retries `work` with doubling delays (250 ms … 5 s) until it succeeds or `limitMs` has passed. */
export async function retryUntil(limitMs: number, logger: Logger, what: string, work: () => Promise<void>, clock: Clock = systemClock): Promise<void> {
  const deadline = clock.now() + limitMs;
  const backoff = new Backoff({ initialMs: 250, maxMs: 5_000, jitter: 'none' }, clock);
  for (;;) {
    try {
      return await work();
    } catch (error) {
      const delay = backoff.next();
      if (clock.now() + delay > deadline) throw error;
      logger.warn({ err: error }, `waiting for ${what}`);
      await clock.sleep(delay);
    }
  }
}

/** Closes `running` on the first SIGTERM/SIGINT and exits 0 (1 when closing fails). */
export function stopOnSignals(logger: Logger, running: { close(): Promise<void> }): void {
  const stop = (signal: string) => {
    logger.info({ signal }, 'stopping');
    running.close().then(
      () => process.exit(0),
      (error: unknown) => {
        logger.error({ err: error }, 'stop failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => stop('SIGTERM'));
  process.once('SIGINT', () => stop('SIGINT'));
}

/** Runs `main` when `moduleUrl` is the file node was started with (not when imported by a test). */
export function runIfEntry(moduleUrl: string, main: () => Promise<void>): void {
  if (!process.argv[1] || path.resolve(process.argv[1]) !== fileURLToPath(moduleUrl)) return;
  main().catch((error: unknown) => {
    console.error(error);
    process.exit(1);
  });
}
