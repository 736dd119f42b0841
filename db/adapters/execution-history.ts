/**
 * A user's execution reports after a seq, for a WebSocket `resume_from_seq` (the ExecutionHistory
 * port of contract/ports/execution-history.ts): PostgreSQL (what the persister has written) and the
 * Redis stream `executions` (what it has not written yet). Imports pg and ioredis, so it lives with the adapters.
 * With `feed: 'positions'` the same for the WebSocket `positions` channel: the user's PositionChanged,
 * WalletChanged and FundingPaid (their tables of migration 004 keep each envelope as it came).
 *
 * Completeness: the Redis publisher appends in seq order, so every report with seq ≤ the stream's
 * last-generated-id is in the stream, or was persisted and trimmed from it. The stream is read
 * first and PostgreSQL second: an entry trimmed between the two reads was committed before the
 * trim, so the second read sees it. `completeThrough` is that last-generated-id.
 */
import { Redis } from 'ioredis';
import type pg from 'pg';
import type { ExecutionHistory, StoredReport } from '../../contract/ports/execution-history.ts';

export interface ExecutionHistoryOptions {
  readonly pool: pg.Pool;
  readonly redisUrl: string;
  readonly stream: string;
  /** stream entries one resume reads at most (the persister's backlog); past it the resume is refused */
  readonly maxScan?: number;
  /** which channel's envelopes (default 'executions') */
  readonly feed?: 'executions' | 'positions';
}

/** Per feed: the `"type":…` marks of its stream entries, and its PostgreSQL rows ($1 user, $2 after seq, $3 limit). */
const FEEDS = {
  executions: {
    types: ['"type":"Execution"'],
    sql: 'SELECT seq, envelope::text AS envelope FROM executions WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3',
  },
  positions: {
    types: ['"type":"PositionChanged"', '"type":"WalletChanged"', '"type":"FundingPaid"'],
    sql: `SELECT seq, envelope FROM (
            (SELECT seq, envelope::text AS envelope FROM futures_position_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)
            UNION ALL
            (SELECT seq, envelope::text FROM futures_wallet_changes WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)
            UNION ALL
            (SELECT seq, envelope::text FROM futures_funding_payments WHERE user_id = $1 AND seq > $2 ORDER BY seq LIMIT $3)
          ) AS events ORDER BY seq LIMIT $3`,
  },
} as const;

export class ExecutionHistoryUnavailableError extends Error {
  override name = 'ExecutionHistoryUnavailableError';
}

type RawEntry = [id: string, fields: string[] | null];

export class ExecutionHistoryStore implements ExecutionHistory {
  readonly #options: ExecutionHistoryOptions;
  #redis: Redis | undefined;

  constructor(options: ExecutionHistoryOptions) {
    this.#options = options;
  }

  async after(userId: number, afterSeq: number, limit: number): Promise<{ reports: StoredReport[]; completeThrough: number }> {
    const redis = this.#client();
    const stream = this.#options.stream;
    let completeThrough = 0;
    try {
      const info = (await redis.call('XINFO', 'STREAM', stream)) as unknown[];
      const at = info.indexOf('last-generated-id');
      if (at >= 0) completeThrough = Number(String(info[at + 1]).split('-')[0]);
    } catch (error) {
      if (!/no such key/i.test((error as Error).message)) throw error;
    }
    const found = new Map<number, string>();
    const userMark = `"user_id":"${userId}"`;
    const feed = FEEDS[this.#options.feed ?? 'executions'];
    const maxScan = this.#options.maxScan ?? 500_000;
    let scanned = 0;
    let start = `${afterSeq + 1}-0`;
    for (;;) {
      const entries = (await redis.call('XRANGE', stream, start, '+', 'COUNT', 5_000)) as RawEntry[];
      for (const [id, fields] of entries) {
        const json = fields?.[1];
        if (!json || !json.includes(userMark) || !feed.types.some((type) => json.includes(type))) continue;
        const seq = Number(id.split('-')[0]);
        found.set(seq, json);
      }
      scanned += entries.length;
      if (entries.length < 5_000) break;
      if (scanned >= maxScan)
        throw new ExecutionHistoryUnavailableError(
          `the Redis stream holds more than ${maxScan} entries after seq ${afterSeq} (the persister is far behind)`,
        );
      start = `(${entries.at(-1)![0]}`;
    }
    const { rows } = await this.#options.pool.query<{ seq: string; envelope: string }>(feed.sql, [userId, afterSeq, limit]);
    for (const row of rows) found.set(Number(row.seq), row.envelope);
    const reports = [...found.entries()]
      .sort((a, b) => a[0] - b[0])
      .slice(0, limit)
      .map(([seq, json]) => ({ seq, json }));
    return { reports, completeThrough };
  }

  #client(): Redis {
    this.#redis ??= (() => {
      const client = new Redis(this.#options.redisUrl, {
        lazyConnect: false,
        protocol: 2,
        enableOfflineQueue: true,
        maxRetriesPerRequest: 1,
        commandTimeout: 5_000,
        connectTimeout: 3_000,
      });
      client.on('error', () => {});
      return client;
    })();
    return this.#redis;
  }

  async close(): Promise<void> {
    const client = this.#redis;
    this.#redis = undefined;
    if (client) await client.quit().catch(() => client.disconnect());
  }
}
