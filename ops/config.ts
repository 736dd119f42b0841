import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { z } from 'zod';

/** Project root (this file lives in ops/). */
export const PROJECT_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');

const port = z.coerce.number().int().min(1).max(65535);
const url = (schemes: readonly string[]) =>
  z.string().refine(
    (value) => {
      try {
        return schemes.includes(new URL(value).protocol);
      } catch {
        return false;
      }
    },
    `must be a URL with scheme ${schemes.join(' or ')}`,
  );

/**
 * Every environment variable xtrader reads, with the defaults that `npm run services:up` starts.
 * Keep this table in step with docs/operations.md's configuration table (and README.md's short one).
 */
const schema = z.object({
  DATABASE_URL: url(['postgres:', 'postgresql:']).default('postgres://postgres@127.0.0.1:5432/xtrader'),
  // Project-owned Redis with AOF on its own port; the machine's 6379 keeps nothing on disk.
  REDIS_URL: url(['redis:']).default('redis://127.0.0.1:6380'),
  AMQP_URL: url(['amqp:', 'amqps:']).default('amqp://guest:guest@127.0.0.1:5672'),
  KAFKA_BROKERS: z
    .string()
    .default('127.0.0.1:9092')
    .refine((value) => value.split(',').every((broker) => /^[^\s:,]+:\d{1,5}$/.test(broker.trim())), 'must be host:port[,host:port…]'),
  API_HOST: z.string().min(1).default('127.0.0.1'),
  API_PORT: port.default(7000),
  WS_PORT: port.default(7001),
  WS_PORT_2: port.default(7002),
  // ws-server: listen host; connections per instance (more: 503 at the upgrade) and authenticated ones per
  // API key; channels and client frames per second per connection (beyond: error frames); unsent bytes per connection before it is closed 4008; largest client frame (larger: close 1009);
  // protocol pings; the windows merging trades / book deltas into one frame; the instance's RabbitMQ queue
  // (default ws-<port>) and its bound in messages (oldest dropped; the hole is repaired from prev_seq chains).
  WS_HOST: z.string().min(1).default('127.0.0.1'),
  WS_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(20_000),
  WS_MAX_CONNECTIONS_PER_KEY: z.coerce.number().int().min(1).default(50),
  WS_MAX_SUBSCRIPTIONS: z.coerce.number().int().min(1).max(1_000).default(50),
  WS_MAX_FRAMES_PER_SEC: z.coerce.number().int().min(1).default(50),
  WS_SEND_BUFFER_BYTES: z.coerce
    .number()
    .int()
    .min(1_024)
    .default(1024 ** 2),
  WS_MAX_FRAME_BYTES: z.coerce
    .number()
    .int()
    .min(256)
    .default(16 * 1024),
  WS_MAX_CATCH_UP_REPORTS: z.coerce.number().int().min(1).default(10_000),
  WS_PING_INTERVAL_MS: z.coerce.number().int().min(100).default(15_000),
  WS_TRADES_WINDOW_MS: z.coerce.number().int().min(0).max(100).default(50),
  WS_BOOK_WINDOW_MS: z.coerce.number().int().min(0).max(1_000).default(20),
  WS_INSTANCE: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (1–64)')
    .optional(),
  WS_QUEUE_MAX_MESSAGES: z.coerce.number().int().min(100).default(100_000),
  // The trading page's WebSocket URLs (comma list; its CSP connect-src allows them). Default: the two
  // ws-servers above on API_HOST (127.0.0.1 when the API listens on all addresses).
  WEB_WS_URLS: z
    .string()
    .refine(
      (value) => value.split(',').every((url) => /^wss?:\/\/[^\s,]+$/.test(url.trim())),
      'must be a comma list of ws:// or wss:// URLs',
    )
    .optional(),
  DATA_DIR: z.string().min(1).default(path.join(PROJECT_ROOT, '.data')),
  ADMIN_TOKEN: z.string().min(16, 'must be at least 16 characters').optional(),
  // 32-byte key sealing API secrets in PostgreSQL (64 hex chars or base64); unset → generated into $DATA_DIR/secret-key.
  SECRET_ENCRYPTION_KEY: z
    .string()
    .refine(
      (value) => /^[0-9a-fA-F]{64}$/.test(value) || Buffer.from(value, 'base64').length === 32,
      'must be 32 bytes as 64 hex characters or base64',
    )
    .optional(),
  // The HTTP API's server (ops/http-limits.ts): a request head must arrive within HTTP_HEADERS_TIMEOUT_MS and
  // a whole request within HTTP_REQUEST_TIMEOUT_MS (else 408, closed); open connections per client address
  // (IPv6: per /64; 0 = no cap), one more answered 429 TOO_MANY_CONNECTIONS and closed.
  HTTP_HEADERS_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(300_000).default(10_000),
  HTTP_REQUEST_TIMEOUT_MS: z.coerce.number().int().min(1_000).max(3_600_000).default(30_000),
  HTTP_MAX_CONNECTIONS_PER_CLIENT: z.coerce.number().int().min(0).default(256),
  // Per API key, in the core's memory: orders (place + cancel) per second, signed requests per minute.
  RATE_LIMIT_ORDERS_PER_SEC: z.coerce.number().int().min(1).default(200),
  RATE_LIMIT_REQUESTS_PER_MIN: z.coerce.number().int().min(1).default(12_000),
  // Sequencer: bounded queue (beyond it the API answers 503), commands per group commit, snapshot interval (0 = never).
  SEQUENCER_MAX_PENDING: z.coerce.number().int().min(1).default(100_000),
  SEQUENCER_MAX_BATCH: z.coerce.number().int().min(1).default(8_192),
  SNAPSHOT_EVERY: z.coerce.number().int().min(0).default(100_000),
  // perpetual funding interval in ms (unset: each market's own, 8 h); funding times are its multiples since the epoch
  FUNDING_INTERVAL_MS: z.coerce.number().int().min(1_000).optional(),
  // the journaled perpetual price tick (index, premium sample, funding); 0 = none (test cores that are not about futures)
  PRICE_TICK_INTERVAL_MS: z.coerce.number().int().min(0).default(1_000),
  // Snapshots kept; the journal is kept back to the oldest of them, or entirely with JOURNAL_KEEP_ALL=true.
  SNAPSHOT_KEEP: z.coerce.number().int().min(1).default(2),
  JOURNAL_KEEP_ALL: z
    .enum(['true', 'false'])
    .default('false')
    .transform((value) => value === 'true'),
  // Event log ($DATA_DIR/events): disk it may use before new commands are refused (503), segment size.
  EVENT_LOG_MAX_BYTES: z.coerce
    .number()
    .int()
    .min(1 << 20)
    .default(8 * 1024 ** 3),
  EVENT_LOG_SEGMENT_BYTES: z.coerce
    .number()
    .int()
    .min(1 << 16)
    .default(64 * 1024 ** 2),
  // Publishers whose cursors hold the log's segments (a broker left out here is not fed).
  PUBLISHERS: z
    .string()
    .default('redis,kafka,rabbitmq')
    .transform((value) =>
      value
        .split(',')
        .map((name) => name.trim())
        .filter((name) => name !== ''),
    )
    .refine(
      (names) => names.every((name) => ['redis', 'kafka', 'rabbitmq'].includes(name)),
      'must be a comma list of redis, kafka, rabbitmq',
    ),
  // A publish not confirmed within this counts as failed (a frozen broker); /ready is degraded past the lag.
  PUBLISH_TIMEOUT_MS: z.coerce.number().int().min(100).default(5_000),
  PUBLISHER_DEGRADED_LAG_MS: z.coerce.number().int().min(100).default(10_000),
  // Prefix for the stream, topics and exchange ("t1" → stream t1.executions, topic t1.market-data, exchange
  // t1.market-notifications): lets tests share the brokers; empty = the contract's names.
  BROKER_NAMESPACE: z
    .string()
    .regex(/^[A-Za-z0-9_-]*$/, 'letters, digits, _ and - only')
    .default(''),
  KAFKA_PARTITIONS: z.coerce.number().int().min(1).max(1000).default(3),
  // Persister (Redis stream → PostgreSQL): consumers in the process, their name prefix (consumer names
  // stay the same across restarts), entries per transaction, XAUTOCLAIM min-idle and pass interval,
  // trim interval (0 = never); /metrics and /health on PERSISTER_HOST:PERSISTER_PORT.
  PERSISTER_CONSUMERS: z.coerce.number().int().min(1).max(64).default(3),
  PERSISTER_NAME: z
    .string()
    .regex(/^[A-Za-z0-9_.:-]{1,64}$/, 'letters, digits, _ . : - only (1–64)')
    .default('persister'),
  PERSISTER_BATCH: z.coerce.number().int().min(1).max(1000).default(100),
  PERSISTER_CLAIM_IDLE_MS: z.coerce.number().int().min(100).default(30_000),
  PERSISTER_CLAIM_EVERY_MS: z.coerce.number().int().min(100).default(5_000),
  PERSISTER_TRIM_EVERY_MS: z.coerce.number().int().min(0).default(5_000),
  PERSISTER_HOST: z.string().min(1).default('127.0.0.1'),
  PERSISTER_PORT: port.default(7010),
  // Market-data service (Kafka `market-data` → candles in PostgreSQL): its consumer group (prefixed by
  // BROKER_NAMESPACE like the topic), session timeout (how soon a dead member's partitions move), and
  // /metrics and /health on MARKET_DATA_HOST:MARKET_DATA_PORT.
  MARKET_DATA_GROUP: z
    .string()
    .regex(/^[A-Za-z0-9_.-]{1,64}$/, 'letters, digits, _ . - only (1–64)')
    .default('candles'),
  MARKET_DATA_SESSION_TIMEOUT_MS: z.coerce.number().int().min(6_000).max(300_000).default(10_000),
  MARKET_DATA_HOST: z.string().min(1).default('127.0.0.1'),
  MARKET_DATA_PORT: port.default(7011),
  // `npm run demo`: taker orders per second (all takers together), how often the market maker requotes,
  // how many takers, and the API it drives (default http://API_HOST:API_PORT).
  DEMO_TAKER_RATE: z.coerce.number().min(0.1).max(100).default(2),
  DEMO_REQUOTE_MS: z.coerce.number().int().min(200).max(60_000).default(2_000),
  DEMO_TAKERS: z.coerce.number().int().min(1).max(20).default(3),
  DEMO_API_URL: url(['http:', 'https:']).optional(),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
});

export type Config = z.infer<typeof schema>;

export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the environment; the error names each bad variable and why. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const input: Record<string, string | undefined> = {};
  for (const key of Object.keys(schema.shape)) {
    const value = env[key];
    // An empty variable means "not set" — the default applies.
    input[key] = value === undefined || value === '' ? undefined : value;
  }
  const parsed = schema.safeParse(input);
  if (!parsed.success) {
    const problems = parsed.error.issues.map((issue) => `${issue.path.join('.')}: ${issue.message}`);
    throw new ConfigError(`invalid configuration — ${problems.join('; ')}`);
  }
  const config = parsed.data;
  return { ...config, DATA_DIR: path.resolve(PROJECT_ROOT, config.DATA_DIR) };
}
