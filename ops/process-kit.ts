/**
 * What every xtrader process entry (persister, market-data, ws-server, publishers) shares: the
 * small GET-only status server (/metrics, /health), retrying a start-up dependency with back-off
 * (the migrations of a process that writes PostgreSQL), a cache for scraped figures, closing once,
 * and "run until SIGTERM/SIGINT, then close and exit 0".
 */
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { pino, type Logger } from 'pino';
import type { Registry } from 'prom-client';
import { Backoff, systemClock, type Clock } from '../lib/backoff.ts';
import { loadConfig, type Config } from './config.ts';

export type StatusAnswer = { status: number; type: string; body: string };

/** A GET-only HTTP server answering from `answer(route)`; resolves once listening. */
export function serveStatus(host: string, port: number, answer: (route: string) => Promise<StatusAnswer>): Promise<Server> {
  return new Promise((resolve, reject) => {
    const server = createServer((request, response) => {
      const route = (request.url ?? '/').split('?')[0]!;
      if (request.method !== 'GET') {
        response
          .writeHead(405, { 'Content-Type': 'application/json' })
          .end(JSON.stringify({ error: 'METHOD_NOT_ALLOWED', message: 'GET only' }));
        return;
      }
      answer(route).then(
        ({ status, type, body }) => response.writeHead(status, { 'Content-Type': type }).end(body),
        (error: unknown) =>
          response
            .writeHead(500, { 'Content-Type': 'application/json' })
            .end(JSON.stringify({ error: 'INTERNAL', message: String(error) })),
      );
    });
    server.once('error', reject);
    server.listen(port, host, () => resolve(server));
  });
}

/**
 * The status server of a process that answers `GET /metrics` from `registry` and `GET /health`
 * with the JSON of `health()`; anything else 404. Resolves with the server and its http://host:port.
 */
export async function serveMetricsAndHealth(
  host: string,
  port: number,
  registry: Registry,
  health: () => Promise<unknown>,
): Promise<{ server: Server; url: string }> {
  const server = await serveStatus(host, port, async (route) => {
    if (route === '/metrics') return { status: 200, type: registry.contentType, body: await registry.metrics() };
    if (route === '/health') return { status: 200, type: 'application/json', body: JSON.stringify(await health()) };
    return { status: 404, type: 'application/json', body: JSON.stringify({ error: 'NOT_FOUND', message: 'GET /metrics or /health' }) };
  });
  const address = server.address() as AddressInfo;
  return { server, url: `http://${host}:${address.port}` };
}

/** Closes a status server, cutting its keep-alive connections (a scraper's would hold it open). */
export function closeStatusServer(server: Server): Promise<void> {
  return new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
}

/** Retries `work` with doubling delays (250 ms … 5 s) until it succeeds or `limitMs` has passed. */
export async function retryUntil(
  limitMs: number,
  logger: Logger,
  what: string,
  work: () => Promise<void>,
  clock: Clock = systemClock,
): Promise<void> {
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

/** `read`, called at most once per `maxAgeMs`: a scrape of several gauges asks the broker once. */
export function cachedFor<T>(maxAgeMs: number, read: () => Promise<T>): () => Promise<T> {
  let cache: { at: number; value: Promise<T> } | undefined;
  return () => {
    const now = Date.now();
    if (!cache || now - cache.at > maxAgeMs) cache = { at: now, value: read() };
    return cache.value;
  };
}

/** `close` run once: later calls get the first call's promise. */
export function closeOnce(close: () => Promise<void>): () => Promise<void> {
  let closing: Promise<void> | undefined;
  return () => (closing ??= close());
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

/**
 * The entry of a service process: when `moduleUrl` is the file node was started with, loads the
 * config, starts the service with a logger tagged `process: name`, and closes it on SIGTERM/SIGINT.
 */
export function runServiceIfEntry(
  moduleUrl: string,
  name: string,
  start: (config: Config, logger: Logger) => Promise<{ close(): Promise<void> }>,
): void {
  runIfEntry(moduleUrl, async () => {
    const config = loadConfig();
    const logger = pino({ level: config.LOG_LEVEL, base: { process: name } });
    stopOnSignals(logger, await start(config, logger));
  });
}

/** Runs a one-shot script's `main`, then exits: 0 when it resolved (clients left open must not keep node running), 1 when it failed. */
export function runThenExit(main: () => Promise<void>): void {
  main().then(
    () => process.exit(0),
    (error: unknown) => {
      console.error(error);
      process.exit(1);
    },
  );
}
