/**
 * A user's execution reports after a seq, for a WebSocket `resume_from_seq` and the repairs of
 * holes in the feed (the ws-server uses the port; db/adapters/execution-history.ts implements it
 * from PostgreSQL and the Redis stream `executions`).
 */

export interface StoredReport {
  readonly seq: number;
  /** the envelope's JSON as stored (prev_seq included; the hub strips it) */
  readonly json: string;
}

export interface ExecutionHistory {
  /**
   * The user's execution reports with seq > afterSeq, seq order, at most `limit`, from PostgreSQL
   * and the Redis stream; `completeThrough`: every report with seq ≤ it is in what was read.
   */
  after(userId: number, afterSeq: number, limit: number): Promise<{ reports: StoredReport[]; completeThrough: number }>;
}
