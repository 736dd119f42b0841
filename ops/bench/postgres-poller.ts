/**
 * Polls PostgreSQL's `executions` for new rows, as a reporting job would (bench:fanout, bench:e2e).
 * The persister's consumers commit side by side, so a row may become visible after rows with
 * higher seqs: besides the forward poll, a rescan every 250 ms reads again the seqs passed in the
 * last second (a row found that way is timed when the rescan saw it — late, never early), and
 * `sweep` looks still-missing orders up by id after the wait, so only a row that is truly absent
 * counts as lost.
 */
import type pg from 'pg';

export interface ExecutionRow {
  readonly seq: number;
  readonly orderId: string;
  readonly execType: string;
  readonly tradeId: string | null;
  /** when the poller first saw the row, on the poller's clock */
  readonly at: number;
}

export interface PostgresPollerOptions {
  /** exec types to read (default only `New`) */
  readonly execTypes?: readonly string[];
  /** the clock rows are stamped with (default Date.now) */
  readonly clock?: () => number;
  /** keep the rows seen, for `takeRows` (default false: only first `New` arrivals) */
  readonly keepRows?: boolean;
}

export class PostgresPoller {
  /** order id → first time its `New` row was seen */
  readonly arrivals = new Map<string, number>();
  /** rows first seen since the last takeRows(), when `keepRows` */
  #rows: ExecutionRow[] = [];
  readonly #seen = new Set<number>();
  #lastSeq = 0;
  /** [time, lastSeq then]: the rescan starts at the lastSeq of a second ago */
  readonly #marks: [number, number][] = [];
  #running = true;
  readonly #done: Promise<void>;
  readonly #pool: pg.Pool;
  readonly #execTypes: string[];
  readonly #clock: () => number;
  readonly #keepRows: boolean;

  constructor(pool: pg.Pool, options: PostgresPollerOptions = {}) {
    this.#pool = pool;
    this.#execTypes = [...(options.execTypes ?? ['New'])];
    this.#clock = options.clock ?? Date.now;
    this.#keepRows = options.keepRows ?? false;
    let rescannedAt = Date.now();
    this.#done = (async () => {
      while (this.#running) {
        try {
          const rows = await this.#read('seq > $1 AND seq <= $2', [this.#lastSeq, Number.MAX_SAFE_INTEGER]);
          for (const row of rows) this.#lastSeq = Math.max(this.#lastSeq, Number(row.seq));
          const now = Date.now();
          this.#marks.push([now, this.#lastSeq]);
          while (this.#marks.length > 1 && this.#marks[1]![0] <= now - 1_000) this.#marks.shift();
          if (now - rescannedAt >= 250 || !this.#running) {
            rescannedAt = now;
            await this.#read('seq > $1 AND seq <= $2', [this.#marks[0]?.[1] ?? 0, this.#lastSeq]);
          }
        } catch {
          // PostgreSQL busy or restarting: poll again
        }
        await new Promise((resolve) => setTimeout(resolve, 10));
      }
    })();
  }

  async #read(
    where: string,
    parameters: unknown[],
  ): Promise<Array<{ seq: string; order_id: string; exec_type: string; trade_id: string | null }>> {
    const { rows } = await this.#pool.query<{ seq: string; order_id: string; exec_type: string; trade_id: string | null }>(
      `SELECT seq, order_id, exec_type, trade_id FROM executions WHERE ${where} AND exec_type = ANY($${parameters.length + 1}::text[]) ORDER BY seq LIMIT 20000`,
      [...parameters, this.#execTypes],
    );
    const at = this.#clock();
    for (const row of rows) {
      if (row.exec_type === 'New' && !this.arrivals.has(row.order_id)) this.arrivals.set(row.order_id, at);
      const seq = Number(row.seq);
      if (this.#keepRows && !this.#seen.has(seq)) {
        this.#seen.add(seq);
        this.#rows.push({ seq, orderId: row.order_id, execType: row.exec_type, tradeId: row.trade_id, at });
      }
    }
    return rows;
  }

  /** the rows first seen since the last call (a rescan that finds a row again does not repeat it) */
  takeRows(): ExecutionRow[] {
    const rows = this.#rows;
    this.#rows = [];
    return rows;
  }

  /** After the wait: reads the rows of these orders by id (found now = timed now, late). */
  async sweep(orderIds: readonly string[]): Promise<void> {
    for (let start = 0; start < orderIds.length; start += 5_000) {
      await this.#read('order_id = ANY($1::bigint[]) AND seq > $2', [orderIds.slice(start, start + 5_000), 0]);
    }
  }

  async stop(): Promise<void> {
    this.#running = false;
    await this.#done;
  }
}
